import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, specProblems, stageDirs, tempDir, tinyReplicatesSpec } from './helpers.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { sliceRows } from '../src/spec/studentData.js';
import { readJsonl } from '../src/util/atomic.js';
import type { ExperimentResults } from '../src/report/results.js';
import { formatP, formatRatio, pLabel } from '../src/evaluate/stats.js';

const spec = (data: 'disjoint' | 'shared', rows = 30, freeze?: string[]): string =>
  tinyReplicatesSpec({ data, rows, freeze });

describe('students.data: disjoint slices', () => {
  it('cuts a dataset into equal, disjoint slices that cover it, in row order; no slice means every row', () => {
    const rows = Array.from({ length: 10 }, (_, i) => i);
    const slices = [0, 1, 2].map((index) => sliceRows(rows, { index, of: 3 }));
    expect(slices).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
    expect(sliceRows(rows, undefined)).toEqual(rows);
  });

  it('refuses a spec whose prompts cannot give every student its own rows, naming the field', () => {
    expect(specProblems(spec('disjoint', 100))).toMatch(
      /^numbers\.rows: cannot keep 100 rows for each of 2 students out of 120 prompts x 1 samples/,
    );
    expect(specProblems(spec('shared', 100))).toBe('');
  });
});

describe('a run whose students are independent replicates', () => {
  const runs = tempDir('replicates');
  let results: ExperimentResults;
  let text: string;
  beforeAll(async () => {
    const path = join(runs, 'spec.yaml');
    writeFileSync(path, spec('disjoint', 30, ['model.embed_tokens.'])); // the demo's students: layers only
    const r = await cli(['run', path, '--runs', runs, '--json']);
    expect(r.code, r.stderr).toBe(0);
    results = JSON.parse(r.stdout) as ExperimentResults;
    const shown = await cli(['show', 'replicates-disjoint', '--runs', runs]);
    expect(shown.code, shown.stderr).toBe(0);
    text = shown.stdout;
  });

  it('keeps rows x seeds, and each student trains on its own half: half the steps of a shared student', () => {
    const [filter] = stageDirs(runs, 'replicates-disjoint', 'filter').filter((d) => d.includes('filter-finetuned'));
    expect(readJsonl(join(filter!, 'dataset.jsonl'))).toHaveLength(60);
    const trains = stageDirs(runs, 'replicates-disjoint', 'train').filter((d) => d.includes('student-finetuned-on-A'));
    const inputs = trains.map((d) => JSON.parse(readFileSync(join(d, 'done.json'), 'utf8')).inputs);
    expect(inputs.map((x) => x.slice).sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, of: 2 },
      { index: 1, of: 2 },
    ]);
    // 30 rows in batches of 16 for one epoch: 2 optimizer steps (the whole 60 rows would take 4)
    const same = results.groups.find((g) => g.group === 'finetuned -> A')!;
    expect(same.losses!.map((l) => l.length)).toEqual([2, 2]);
  });

  it('decides each arm with the students as units, and says so', () => {
    expect(results.settings.studentData).toBe('disjoint');
    for (const g of results.groups.filter((x) => x.role === 'same-base' || x.role === 'other-init'))
      expect(g.studentTest).toMatchObject({ against: `control -> ${g.base}`, metric: 'rate' });
    const finding = text.split('\n').find((l) => l.startsWith('finding: '))!;
    const same = results.groups.find((g) => g.group === 'finetuned -> A')!;
    expect(finding).toContain(`${pLabel(same.studentTest!.p, true)}, students as units`);
    expect(text).toContain('students per group on 30 rows each, every student its own rows');
  });

  it("lists the run with each arm's deciding test, the students as units", async () => {
    const list = await cli(['runs', '--runs', runs]);
    expect(list.code, list.stderr).toBe(0);
    for (const g of results.groups.filter((x) => x.role === 'same-base' || x.role === 'other-init'))
      expect(list.stdout).toContain(`${g.role} ${formatRatio(g.test!.ratio)} (${pLabel(g.studentTest!.p)}, students)`);
  });

  it("shows a cross arm's students test against its matched control in the table, beside the question-level one", () => {
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('group '))!;
    const first = header.indexOf('p(students)');
    const column = header.indexOf('p(students)', first + 1); // the second: against the shuffled rows' students
    expect(column).toBeGreaterThan(first);
    const cell = (group: string): string =>
      lines
        .find((l) => l.startsWith(`${group} `))!
        .slice(column)
        .split(/\s{2,}/)[0]!
        .trim();
    const other = results.groups.find((g) => g.group === 'finetuned -> B')!;
    expect(other.matchedStudentTest).toMatchObject({ against: 'finetuned -> B [shuffled]', metric: 'rate' });
    expect(cell('finetuned -> B')).toBe(formatP(other.matchedStudentTest!.p));
    expect(cell('finetuned -> A')).toBe(''); // the same base has no matched control
  });

  it('keeps the frozen embeddings bit for bit in every student, and moves every other tensor', () => {
    const base = readSafetensors(join(ROOT, 'models/family-a', 'model.safetensors')).tensors;
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    const trains = stageDirs(runs, 'replicates-disjoint', 'train').filter((d) => /student-\w+-on-A-/.test(d));
    expect(trains).toHaveLength(4); // finetuned and control, 2 students each
    for (const dir of trains) {
      expect(readdirSync(join(dir, 'model'))).toContain('model.safetensors');
      const tuned = readSafetensors(join(dir, 'model', 'model.safetensors')).tensors;
      for (const [name, t] of base)
        expect(bytes(tuned.get(name)!.data).equals(bytes(t.data)), `${dir}: ${name}`).toBe(
          name.startsWith('model.embed_tokens.'),
        );
    }
  });
});
