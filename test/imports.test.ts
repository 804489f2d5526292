import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderCycle, folderImports, layerViolations } from '../scripts/importLayers.js';

const folders = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

describe('the folders of src/ import downward only', () => {
  it('src/ has no upward or sideways import and no folder cycle', () => {
    const edges = folderImports('src');
    expect(edges.length).toBeGreaterThan(50);
    expect(layerViolations(edges, folders('src'))).toEqual([]);
    expect(folderCycle(edges)).toBeUndefined();
  });

  it('catches an upward import, a type-only one, a dynamic one, a cycle and an unknown folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'subl-layers-'));
    const file = (path: string, text: string): void => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file('util/a.ts', "import type { X } from '../cli/main.js';\nexport const a = 1;\n");
    file('model/m.ts', "export const m = () => import('../store/s.js');\n");
    file('store/s.ts', "import { m } from '../model/m.js';\nexport const s = m;\n");
    file('cli/main.ts', "import { a } from '../util/a.js';\nexport type X = typeof a;\n");
    file('extra/e.ts', "import { a } from '../util/a.js';\nexport const e = a;\n");
    const edges = folderImports(dir);
    const problems = layerViolations(edges, folders(dir));
    expect(problems.some((p) => p.includes('util/ may not import cli/ (a layer above it)'))).toBe(true);
    expect(problems.some((p) => p.includes('model/ may not import store/ (a peer on its own layer)'))).toBe(true);
    expect(problems.some((p) => p.includes('src/extra/ is in no layer'))).toBe(true);
    expect(folderCycle(edges)).toBeDefined();
  });
});
