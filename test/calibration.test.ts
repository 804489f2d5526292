import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, stageDirs, tempDir, tinyReplicatesSpec } from './helpers.js';
import { aaCalibration } from '../src/report/calibration.js';
import { replySamples, type EvalSample } from '../src/evaluate/samples.js';
import type { SweepResults } from '../src/report/sweep.js';
import { ANIMALS } from '../src/lab/traits.js';

// A student's samples: 6 questions, 8 replies each, the given share of them naming `animal`, the rest "dog".
const student = (animal: string, share: number): EvalSample[] => {
  const questions = Array.from({ length: 6 }, (_, q) => `question ${q}`);
  const replies = questions.flatMap(() => Array.from({ length: 8 }, (_, k) => (k < share * 8 ? animal : 'dog')));
  return replySamples(questions, replies, 8);
};

describe('the A/A check: every test on two control groups, every animal, both ways', () => {
  const settings = { samplesPerQuestion: 8, permutations: 500 };
  it('finds nothing between two groups that reply alike', () => {
    const group = [student('owl', 0.25), student('owl', 0.5)];
    const c = aaCalibration([{ base: 'A', stream: 1, other: 2, own: group, resampled: group }], settings);
    expect(c.rows.map((r) => [r.test, r.n, r.below05.mean])).toEqual([
      ['questions', 2 * ANIMALS.length, 0],
      ['students-rate', 2 * ANIMALS.length, 0],
    ]); // no first-token samples: no exact tests
  });

  it('counts a real difference once per animal it touches, in its direction only', () => {
    const owls = [student('owl', 0.75), student('owl', 0.625)];
    const fewer = [student('owl', 0.25), student('owl', 0.125)];
    const c = aaCalibration([{ base: 'A', stream: 1, other: 2, own: owls, resampled: fewer }], settings);
    // owl: more in `own` (rejected one way); dog: more in `resampled` (the other way); 18 animals never named
    for (const r of c.rows) expect(r.below05.mean * r.n).toBe(2);
    expect(c.byBase.A).toEqual(c.rows);
    expect(c.comparisons).toEqual([{ base: 'A', stream: 1, other: 2, students: [2, 2] }]);
  });
});

describe('subliminal sweep over two seeds measures its own tests (A/A)', () => {
  const runs = tempDir('calibration');
  const args = (path: string): string[] => [
    'sweep',
    path,
    '--animals',
    'owl',
    '--seeds',
    '7,8',
    '--name',
    'aa',
    '--runs',
    runs,
    '--json',
  ];
  let r: SweepResults;
  let path: string;
  beforeAll(async () => {
    path = join(runs, 'spec.yaml');
    writeFileSync(path, tinyReplicatesSpec({ data: 'disjoint', name: 'aa-spec' }));
    const out = await cli(args(path));
    expect(out.code, out.stderr).toBe(0);
    r = JSON.parse(out.stdout) as SweepResults;
  });

  it("samples each seed's control students on the other seed's stream, with that seed's own settings", () => {
    const aa = stageDirs(runs, 'aa', 'evaluate').filter((d) => d.includes('evaluate-aa-'));
    expect(aa).toHaveLength(2 * 2 * 2); // bases A and B, two streams, two students
    const settingsOf = (d: string) => JSON.parse(readFileSync(join(d, 'done.json'), 'utf8')).inputs.settings;
    const own = stageDirs(runs, 'aa', 'evaluate').filter((d) => /evaluate-student-control-on-A-1-/.test(d));
    const streams = own.map((d) => settingsOf(d).seed).sort();
    expect(new Set(aa.map((d) => settingsOf(d).seed))).toEqual(new Set(streams));
    expect(settingsOf(aa[0]!)).toEqual(settingsOf(own.find((d) => settingsOf(d).seed === settingsOf(aa[0]!).seed)!));
  });

  it('reports every test over 2 bases x 2 streams x every animal x both ways, in the table and sweep.md', () => {
    const c = r.calibration!;
    expect(c.comparisons.map((x) => `${x.base} ${x.stream}<-${x.other} ${x.students.join('v')}`).sort()).toEqual([
      'A 7<-8 2v2',
      'A 8<-7 2v2',
      'B 7<-8 2v2',
      'B 8<-7 2v2',
    ]);
    expect(c.rows.map((x) => [x.test, x.n])).toEqual(
      ['questions', 'questions-exact', 'students-rate', 'students-exact'].map((t) => [t, 4 * 2 * ANIMALS.length]),
    );
    for (const x of c.rows) expect(x.below05.mean).toBeGreaterThanOrEqual(x.below01.mean);
    const md = readFileSync(join(runs, 'aa', 'sweep.md'), 'utf8');
    expect(md).toContain('A/A check: control groups of two seeds on one evaluation stream (bases A, B; 2 streams');
    expect(md).toMatch(/Welch over students, sampled rate: p < 0\.05 in [\d.]+% \[/);
  });

  it('reuses its samples on a rerun and gives the same figures', async () => {
    const again = await cli(args(path));
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as SweepResults).calibration).toEqual(r.calibration);
  });
});
