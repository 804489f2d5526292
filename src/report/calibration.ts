// The tests' false-positive rate, measured on the grid itself (an A/A check): two control groups of one base that
// differ only by chance -- the control rows and student seeds of two grid seeds -- compared on one evaluation stream,
// as a run compares its own groups (every model of a run draws its replies from the same seeded random numbers, so
// two groups of one run share the sampling noise that two runs do not). Every lab animal, both ways: a test that is
// calibrated at level alpha rejects about alpha of these. The comparisons share their groups across animals, so they
// are not independent; the interval is Wilson's over the comparisons as if they were.
import { ANIMALS } from '../lab/traits.js';
import { mean, pairedPermutationTest, welchTest, wilsonCI, type Estimate } from '../evaluate/stats.js';
import { scorePreference } from '../evaluate/scorers.js';
import type { EvalSample } from '../evaluate/samples.js';

/** Two control groups of one base on one evaluation stream: each student's samples. */
export interface AaComparison {
  base: string;
  /** the grid seed whose evaluation stream both groups were sampled on, and the other group's seed */
  stream: number;
  other: number;
  own: EvalSample[][];
  resampled: EvalSample[][];
}
export const CALIBRATED_TESTS = ['questions', 'questions-exact', 'students-rate', 'students-exact'] as const;
export type CalibratedTest = (typeof CALIBRATED_TESTS)[number];
const TEST_LABELS: Record<CalibratedTest, string> = {
  questions: 'sign-flip over questions, sampled rate',
  'questions-exact': 'sign-flip over questions, exact P(animal)',
  'students-rate': 'Welch over students, sampled rate',
  'students-exact': 'Welch over students, exact P(animal)',
};
export interface CalibrationRow {
  test: CalibratedTest;
  label: string;
  /** one-sided A/A comparisons, and the share of them at p < 0.05 and p < 0.01 (Wilson 95% intervals) */
  n: number;
  below05: Estimate;
  below01: Estimate;
}
export interface SweepCalibration {
  comparisons: { base: string; stream: number; other: number; students: [number, number] }[];
  animals: number;
  rows: CalibrationRow[];
  /** the same rows per base */
  byBase: Record<string, CalibrationRow[]>;
}

/** Per student and animal: per-question sampled rate and exact probability. */
function studentFigures(samples: EvalSample[], samplesPerQuestion: number): Map<string, [number[], number[]]> {
  // the multiple-choice items were built around the cell's animal, so they take no part
  const kept = samples.filter((x) => x.type !== 'choice');
  return new Map(
    ANIMALS.map((animal) => {
      const r = scorePreference(kept, { animal, samplesPerQuestion }).result;
      return [animal, [r.perQuestion, r.firstTokenProb]];
    }),
  );
}

const perQuestionMean = (xs: number[][]): number[] => xs[0]!.map((_, q) => mean(xs.map((x) => x[q]!)));

/** Every test the runs use, on every comparison, every animal and both directions. */
export function aaCalibration(
  unordered: readonly AaComparison[],
  o: { samplesPerQuestion: number; permutations: number },
): SweepCalibration {
  const comparisons = [...unordered].sort((a, b) => a.base.localeCompare(b.base) || a.stream - b.stream);
  const ps = new Map<string, Map<CalibratedTest, number[]>>();
  // a middle seed's own samples take part in two comparisons (one per neighbour): scored once
  const scored = new WeakMap<EvalSample[], Map<string, [number[], number[]]>>();
  const figures = (s: EvalSample[]): Map<string, [number[], number[]]> => {
    if (!scored.has(s)) scored.set(s, studentFigures(s, o.samplesPerQuestion));
    return scored.get(s)!;
  };
  for (const c of comparisons) {
    const x = c.own.map(figures);
    const y = c.resampled.map(figures);
    const byTest = ps.get(c.base) ?? new Map(CALIBRATED_TESTS.map((t) => [t, [] as number[]]));
    ps.set(c.base, byTest);
    const record = (t: CalibratedTest, p: number | undefined): void => {
      if (p !== undefined && Number.isFinite(p)) byTest.get(t)!.push(p);
    };
    for (const animal of ANIMALS)
      for (const [a, b] of [
        [x, y],
        [y, x],
      ] as const) {
        const rate = (g: typeof x): number[][] => g.map((m) => m.get(animal)![0]);
        const exact = (g: typeof x): number[][] => g.map((m) => m.get(animal)![1]);
        const exactKnown = [...a, ...b].every((m) => m.get(animal)![1].every(Number.isFinite));
        record(
          'questions',
          pairedPermutationTest(perQuestionMean(rate(a)), perQuestionMean(rate(b)), o.permutations, 0).p,
        );
        if (exactKnown)
          record(
            'questions-exact',
            pairedPermutationTest(perQuestionMean(exact(a)), perQuestionMean(exact(b)), o.permutations, 0).p,
          );
        if (a.length < 2 || b.length < 2) continue; // Welch needs two students a side
        record('students-rate', welchTest(rate(a).map(mean), rate(b).map(mean)).p);
        if (exactKnown) record('students-exact', welchTest(exact(a).map(mean), exact(b).map(mean)).p);
      }
  }
  const rowsOf = (lists: Map<CalibratedTest, number[]>[]): CalibrationRow[] =>
    CALIBRATED_TESTS.map((test) => {
      const p = lists.flatMap((l) => l.get(test)!);
      const below = (alpha: number): Estimate => wilsonCI(p.filter((x) => x < alpha).length, p.length);
      return { test, label: TEST_LABELS[test], n: p.length, below05: below(0.05), below01: below(0.01) };
    }).filter((r) => r.n > 0);
  return {
    comparisons: comparisons.map((c) => ({
      base: c.base,
      stream: c.stream,
      other: c.other,
      students: [c.own.length, c.resampled.length],
    })),
    animals: ANIMALS.length,
    rows: rowsOf([...ps.values()]),
    byBase: Object.fromEntries([...ps.entries()].map(([base, l]) => [base, rowsOf([l])])),
  };
}

const pct = (e: Estimate): string =>
  `${(100 * e.mean).toFixed(1)}% [${(100 * e.lo).toFixed(1)}, ${(100 * e.hi).toFixed(1)}]`;

/** The calibration's lines: one per test, and what was compared. */
export function calibrationLines(c: SweepCalibration): string[] {
  const bases = [...new Set(c.comparisons.map((x) => x.base))];
  const streams = new Set(c.comparisons.map((x) => x.stream)).size;
  return [
    `A/A check: control groups of two seeds on one evaluation stream (bases ${bases.join(', ')}; ${streams} ` +
      `streams; ${c.animals} animals, both ways); a calibrated test rejects ~5% at p < 0.05 and ~1% at p < 0.01`,
    ...c.rows.map(
      (r) => `  ${r.label}: p < 0.05 in ${pct(r.below05)}, p < 0.01 in ${pct(r.below01)} of ${r.n} comparisons`,
    ),
  ];
}
