// The version of the code a stage runs, DVC-style: the SHA-256 of the source of its entry
// modules and of every module they import (transitively, type-only imports aside), read from
// src/. Fixing a scorer changes the evaluate stages' version, so their cached results are
// not returned; code that a stage does not import leaves its cache alone.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { PACKAGE_ROOT } from './packageRoot.js';

const SRC = join(PACKAGE_ROOT, 'src');
// static imports and re-exports (not `import type`), and dynamic import('...')
const STATIC_IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/;
const DYNAMIC_IMPORT = /import\(\s*['"](\.[^'"]+)['"]\s*\)/;
const IMPORT = new RegExp(`${STATIC_IMPORT.source}|${DYNAMIC_IMPORT.source}`, 'g');

/** The local modules a module imports (paths under src/, as .ts files). */
export function localImports(file: string, source = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) out.push(target);
    else if (existsSync(`${target}.ts`)) out.push(`${target}.ts`);
  }
  return out;
}

/** Every module reachable from the entries (paths relative to src/, sorted). */
export function moduleClosure(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const stack = entries.map((e) => join(SRC, e));
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    if (!existsSync(f)) throw new Error(`code version: no module ${relative(SRC, f)} under ${SRC}`);
    seen.add(f);
    stack.push(...localImports(f));
  }
  return [...seen].map((f) => relative(SRC, f)).sort();
}

const cache = new Map<string, string>();
/** The code version of a set of entry modules (relative to src/): 16 hex digits. */
export function codeVersion(entries: readonly string[]): string {
  const key = entries.join('\n');
  let v = cache.get(key);
  if (!v) {
    const h = createHash('sha256');
    for (const f of moduleClosure(entries))
      h.update(f)
        .update('\0')
        .update(readFileSync(join(SRC, f)))
        .update('\0');
    v = h.digest('hex').slice(0, 16);
    cache.set(key, v);
  }
  return v;
}
