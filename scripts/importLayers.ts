// The folders of src/ in layers: a folder imports only folders of lower layers (type-only and dynamic
// imports count too), so the pipeline reads bottom-up and no folder cycle can come back.
// `npm run check:imports` prints the folder graph and every import that breaks the order.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** Lowest first. Folders on one row are peers and may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['store', 'model'],
  ['lab'], // the lab's content: animals, questions, misalignment replies, banned numbers
  ['spec'],
  ['provider'],
  ['judge'],
  ['generate'],
  ['filter'],
  ['train'],
  ['base'], // base models: a corpus of the lab's content, trained by train/
  ['teacher'], // a fine-tuned teacher's data mixes in its base's corpus
  ['evaluate'],
  ['audit'],
  ['defend'],
  ['mnist'],
  ['report'],
  ['pipeline'],
  ['serve', 'ui'],
  ['cli'],
];

export interface ImportEdge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

const layerOf = (folder: string): number => LAYERS.findIndex((row) => row.includes(folder));

/** Every relative import between two folders of `srcDir` (static, type-only, re-export and dynamic). */
export function folderImports(srcDir: string): ImportEdge[] {
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mts|mjs)$/.test(f));
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(srcDir, file), 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(srcDir, normalize(join(srcDir, dirname(file), specifier)));
      const from = file.split(/[\\/]/)[0]!;
      const to = target.split(/[\\/]/)[0]!;
      if (from !== to && !to.startsWith('..')) edges.push({ from, to, file: join(srcDir, file), specifier });
    }
  }
  return edges;
}

/** The imports that break the layer order, and folders missing from LAYERS. */
export function layerViolations(edges: readonly ImportEdge[], folders: readonly string[]): string[] {
  const problems = folders
    .filter((f) => layerOf(f) < 0)
    .map((f) => `src/${f}/ is in no layer of scripts/importLayers.ts`);
  for (const e of edges) {
    const a = layerOf(e.from);
    const b = layerOf(e.to);
    if (a >= 0 && b >= 0 && b >= a) {
      const how = b === a ? 'a peer on its own layer' : 'a layer above it';
      problems.push(`${e.file} imports ${e.specifier}: ${e.from}/ may not import ${e.to}/ (${how})`);
    }
  }
  return problems;
}

/** A cycle among folders, as a path a -> b -> ... -> a, or undefined. */
export function folderCycle(edges: readonly ImportEdge[]): string[] | undefined {
  const next = new Map<string, Set<string>>();
  for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === 'done') return undefined;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f];
    state.set(f, 'open');
    path.push(f);
    for (const g of next.get(f) ?? []) {
      const cycle = visit(g);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(f, 'done');
    return undefined;
  };
  for (const f of next.keys()) {
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return undefined;
}

/** One line per folder, top layer first: what it imports. */
export function folderGraphLines(edges: readonly ImportEdge[]): string[] {
  const targets = new Map<string, Set<string>>();
  for (const e of edges) targets.set(e.from, (targets.get(e.from) ?? new Set()).add(e.to));
  return [...LAYERS]
    .reverse()
    .flat()
    .map((f) => {
      const to = [...(targets.get(f) ?? [])].sort((x, y) => layerOf(y) - layerOf(x) || x.localeCompare(y));
      return `${f.padEnd(9)} -> ${to.length ? to.join(', ') : '(nothing)'}`;
    });
}

const isMain = process.argv[1] && normalize(process.argv[1]) === normalize(new URL(import.meta.url).pathname);
if (isMain) {
  const srcDir = 'src';
  const edges = folderImports(srcDir);
  const folders = readdirSync(srcDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  console.log('folder graph (top layer first; each folder imports only the folders listed):');
  for (const line of folderGraphLines(edges)) console.log('  ' + line);
  const problems = layerViolations(edges, folders);
  const cycle = folderCycle(edges);
  if (cycle) problems.push(`folder cycle: ${cycle.join(' -> ')}`);
  for (const p of problems) console.error('error: ' + p);
  console.log(
    problems.length ? `${problems.length} import problem(s)` : 'imports: no cycle, no upward or sideways import',
  );
  process.exit(problems.length ? 1 : 0);
}
