import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, stageDirs, tempDir } from './helpers.js';
import { summariseSweep, sweepSummaryLines, type SweepResults } from '../src/report/sweep.js';
import type { ExperimentResults, GroupSummary } from '../src/report/results.js';
import { holm, ratioCI } from '../src/evaluate/stats.js';
import { familySignature, studentArm } from '../src/pipeline/arms.js';

describe('student arms', () => {
  const sig = new Map(
    ['entangled-a', 'entangled-b', 'other-c'].map((m) => [m, familySignature(join(ROOT, 'models', m))]),
  );
  it('reads the arm from the model folders: same tokenizer and shape is another init, else another family', () => {
    expect(studentArm('entangled-a', 'entangled-a', sig)).toBe('same-base');
    expect(studentArm('entangled-a', 'entangled-b', sig)).toBe('other-init');
    expect(studentArm('entangled-a', 'other-c', sig)).toBe('other-family');
    // no folder to compare: another family unless declared
    expect(studentArm('entangled-a', 'api-model', sig)).toBe('other-family');
    expect(studentArm('entangled-a', 'api-model', sig, { 'api-model': 'other-init' })).toBe('other-init');
  });
});

describe('ratio intervals and Holm', () => {
  it('bootstraps a ratio interval around the ratio of means, seeded', () => {
    const control = Array.from({ length: 50 }, (_, i) => 0.1 + (i % 7) * 0.01);
    const treated = control.map((x, i) => 2 * x + (i % 3) * 0.005);
    const [lo, hi] = ratioCI(treated, control);
    const ratio = treated.reduce((a, b) => a + b) / control.reduce((a, b) => a + b);
    expect(lo).toBeLessThan(ratio);
    expect(hi).toBeGreaterThan(ratio);
    expect(lo).toBeGreaterThan(1.9);
    expect(ratioCI(treated, control)).toEqual([lo, hi]);
  });
  it('adjusts step-down and keeps the order monotone', () => {
    expect(holm([0.01, 0.04, 0.03, 0.2])).toEqual([0.04, 0.09, 0.09, 0.2]);
    expect(holm([0.5, 0.5])).toEqual([1, 1]); // never below an earlier, smaller p's adjustment
  });
});

describe('the sweep summary on the students-as-units test', () => {
  // one same-base group per cell, with both tests; the summary is pure, so plain results objects will do
  const cell = (
    seed: number,
    pQuestions: number,
    pStudents: number,
  ): { animal: string; seed: number; results: ExperimentResults } => {
    const rate = { mean: 0.2, lo: 0.18, hi: 0.22, n: 50 };
    const group = (name: string, role: GroupSummary['role']): GroupSummary => ({
      group: name,
      role,
      base: 'A',
      teacher: role === 'control' ? 'control' : 't',
      n: 3,
      models: [],
      rate,
      firstToken: rate,
      perQuestion: [],
      topAnswers: [],
    });
    const arm = {
      ...group('t -> A', 'same-base'),
      test: { against: 'control -> A', p: pQuestions, meanDiff: 0.1, ratio: 2 },
      studentTest: { against: 'control -> A', p: pStudents, t: 3, df: 4, metric: 'rate' as const },
    };
    const results = {
      run: `cell-${seed}`,
      animal: 'owl',
      groups: [group('control -> A', 'control'), arm],
      filter: {},
      headline: {},
      settings: { questions: 50, samplesPerQuestion: 100, studentSeeds: 3, rows: 10, test: 't' },
    };
    return { animal: 'owl', seed, results };
  };
  it('adjusts the students p by Holm across cells and counts the cells on it, beside the question test', () => {
    const grid = { sweep: 's', spec: 'x.yaml', specHash: 'h', animals: ['owl'], seeds: [1, 2, 3], registeredAt: '' };
    const r = summariseSweep(grid, [cell(1, 0.0001, 0.004), cell(2, 0.0001, 0.03), cell(3, 0.2, 0.2)]);
    expect(r.cells.map((c) => c.studentsHolm)).toEqual(holm([0.004, 0.03, 0.2]));
    expect(r.arms[0]).toMatchObject({
      below01: 2,
      above05: 1,
      students: { below01: 1, above05: 1, holmSignificant: 1 },
    });
    expect(sweepSummaryLines(r)[1]).toBe(
      't / same-base, students as units: p < 0.01 in 1 of 3 cells, p > 0.05 in 1, significant after Holm in 1',
    );
  });
});

/** The sweep the tests run and rerun (owl and cat at seed 7), or another grid under the same name. */
const gridArgs = (runs: string, animals = 'owl,cat'): string[] => [
  'sweep',
  'test/fixtures/tiny.yaml',
  '--animals',
  animals,
  '--seeds',
  '7',
  '--name',
  'grid',
  '--runs',
  runs,
  '--json',
];

describe('subliminal sweep: a grid fixed in advance, every cell and arm in one table', () => {
  const runs = tempDir('sweep');
  let r: SweepResults;
  beforeAll(async () => {
    const out = await cli(gridArgs(runs));
    expect(out.code, out.stderr).toBe(0);
    r = JSON.parse(out.stdout) as SweepResults;
  });

  it('has a row for every cell and arm, each cell a run of its own with its results', () => {
    expect(r.grid.animals).toEqual(['owl', 'cat']);
    expect(r.grid.seeds).toEqual([7]);
    expect(r.cells.map((c) => `${c.animal}:${c.arm}`)).toEqual([
      'owl:same-base',
      'owl:other-init',
      'owl:other-family',
      'cat:same-base',
      'cat:other-init',
      'cat:other-family',
    ]);
    for (const c of r.cells) {
      expect(existsSync(join(runs, c.run, 'results.json'))).toBe(true);
      expect(c.test.p).toBeGreaterThan(0);
      expect(c.rate.n).toBe(5);
      if (c.arm !== 'same-base') expect(c.matched?.against).toMatch(/\[shuffled\]$/);
    }
    const md = readFileSync(join(runs, 'grid', 'sweep.md'), 'utf8');
    for (const c of r.cells) expect(md).toContain(`| ${c.animal} s${c.seed} | ${c.teacher} | ${c.arm} |`);
    expect(readFileSync(join(runs, 'grid', 'sweep.svg'), 'utf8')).toMatch(/^<svg/);
    expect(r.calibrationNote).toBe('the A/A check needs two seeds or more');
    expect(md).toContain('A/A check: none (the A/A check needs two seeds or more)');
  });

  it('adjusts p across the cells of each arm by Holm', () => {
    for (const arm of ['same-base', 'other-init', 'other-family']) {
      const cells = r.cells.filter((c) => c.arm === arm);
      expect(cells.map((c) => c.pHolm)).toEqual(holm(cells.map((c) => c.test.p)));
      expect(r.arms.find((a) => a.arm === arm)!.cells).toBe(2);
    }
  });

  it('runs a stage once where the cells agree on its inputs (the control teacher of one seed)', () => {
    expect(stageDirs(runs, 'grid', 'generate').filter((d) => d.includes('generate-control-'))).toHaveLength(1);
    expect(stageDirs(runs, 'grid', 'generate').filter((d) => d.includes('generate-finetuned-'))).toHaveLength(2);
  });

  it('reuses every stage on a rerun, and refuses another grid under the same name', async () => {
    const again = await cli(gridArgs(runs));
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as SweepResults).cells).toEqual(r.cells);
    const other = await cli(gridArgs(runs, 'owl'));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/registered with animals owl,cat/);
  });
});
