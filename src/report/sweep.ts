// A sweep's results: one row per cell, teacher and arm, with Holm's adjustment across cells; summary lines and
// the markdown page.
import { formatP, formatRatio, formatRatioCI, holm, median, pLabel, type Estimate } from '../evaluate/stats.js';
import { calibrationLines, type SweepCalibration } from './calibration.js';
import { ARMS, isArm, type Arm, type ExperimentResults, type StudentTest, type TestResult } from './results.js';

export interface SweepGrid {
  sweep: string;
  spec: string;
  specHash: string;
  animals: string[];
  seeds: number[];
  registeredAt: string;
}
/** One arm of one cell: the arm's students against their control and, for cross arms, their matched control. */
export interface SweepCellArm {
  animal: string;
  seed: number;
  run: string;
  teacher: string;
  arm: Arm;
  group: string;
  rate: Estimate;
  control: Estimate;
  test: TestResult;
  pHolm: number;
  exact?: TestResult;
  matched?: TestResult;
  matchedHolm?: number;
  /** students as the units (Welch), against the control and the matched control, Holm like `test` */
  students?: StudentTest;
  studentsHolm?: number;
  matchedStudents?: StudentTest;
}
/** An arm across the grid, per teacher: how many cells cleared each threshold. */
export interface SweepArmSummary {
  teacher: string;
  arm: Arm;
  cells: number;
  below01: number;
  above05: number;
  holmSignificant: number;
  medianRatio: number;
  /** cross arms: cells where the arm exceeds its matched control at p < 0.05, before and after Holm */
  matched?: { cells: number; below05: number; holmSignificant: number };
  /** the same counts on the students-as-units test, where every cell has it */
  students?: { below01: number; above05: number; holmSignificant: number; matchedBelow05?: number };
}
export interface SweepResults {
  kind: 'sweep';
  grid: SweepGrid;
  cells: SweepCellArm[];
  arms: SweepArmSummary[];
  test: string;
  /** the tests' false-positive rates measured on the grid's own control groups (A/A), or why there are none */
  calibration?: SweepCalibration;
  calibrationNote?: string;
}

/** Per cell, teacher and arm: the tests of its results, Holm-adjusted across the cells of that teacher and arm. */
export function summariseSweep(
  grid: SweepGrid,
  cells: readonly { animal: string; seed: number; results: ExperimentResults }[],
): SweepResults {
  const rows: SweepCellArm[] = [];
  for (const { animal, seed, results } of cells) {
    for (const g of results.groups) {
      if (!isArm(g.role) || g.defense || !g.test || !g.teacher) continue;
      const control = results.groups.find((c) => c.group === g.test!.against)!;
      rows.push({
        animal,
        seed,
        run: results.run,
        teacher: g.teacher,
        arm: g.role,
        group: g.group,
        rate: g.rate,
        control: control.rate,
        test: g.test,
        pHolm: NaN,
        ...(g.firstTokenTest ? { exact: g.firstTokenTest } : {}),
        ...(g.matchedTest ? { matched: g.matchedTest } : {}),
        ...(g.studentTest ? { students: g.studentTest } : {}),
        ...(g.matchedStudentTest ? { matchedStudents: g.matchedStudentTest } : {}),
      });
    }
  }
  const arms: SweepArmSummary[] = [];
  const teachers = [...new Set(rows.map((r) => r.teacher))];
  for (const teacher of teachers) {
    for (const arm of ARMS) {
      const family = rows.filter((r) => r.teacher === teacher && r.arm === arm);
      if (!family.length) continue;
      holm(family.map((r) => r.test.p)).forEach((p, i) => {
        family[i]!.pHolm = p;
      });
      const matched = family.filter((r) => r.matched);
      holm(matched.map((r) => r.matched!.p)).forEach((p, i) => {
        matched[i]!.matchedHolm = p;
      });
      const byStudents = family.every((r) => r.students);
      if (byStudents)
        holm(family.map((r) => r.students!.p)).forEach((p, i) => {
          family[i]!.studentsHolm = p;
        });
      arms.push({
        teacher,
        arm,
        cells: family.length,
        below01: family.filter((r) => r.test.p < 0.01).length,
        above05: family.filter((r) => r.test.p > 0.05).length,
        holmSignificant: family.filter((r) => r.pHolm < 0.05).length,
        medianRatio: median(family.map((r) => r.test.ratio)),
        ...(matched.length
          ? {
              matched: {
                cells: matched.length,
                below05: matched.filter((r) => r.matched!.p < 0.05).length,
                holmSignificant: matched.filter((r) => r.matchedHolm! < 0.05).length,
              },
            }
          : {}),
        ...(byStudents
          ? {
              students: {
                below01: family.filter((r) => r.students!.p < 0.01).length,
                above05: family.filter((r) => r.students!.p > 0.05).length,
                holmSignificant: family.filter((r) => r.studentsHolm! < 0.05).length,
                ...(matched.length
                  ? { matchedBelow05: family.filter((r) => r.matchedStudents && r.matchedStudents.p < 0.05).length }
                  : {}),
              },
            }
          : {}),
      });
    }
  }
  return {
    kind: 'sweep',
    grid,
    cells: rows,
    arms,
    test:
      "per cell: one-sided paired sign-flip test over questions against the control students of the arm's " +
      "base; p (students): one-sided Welch t-test with the students as units (each student's sampled rate where " +
      'the students learned disjoint rows, else its mean exact probability); Holm across the cells of each teacher ' +
      'and arm (alpha 0.05), for each test',
  };
}

const fmt = (x: number | undefined, digits = 3): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);

/** The grid's table rows (shared by the terminal and sweep.md). */
export function sweepRows(r: SweepResults): string[][] {
  return r.cells.map((c) => [
    `${c.animal} s${c.seed}`,
    c.teacher,
    c.arm,
    `${fmt(c.rate.mean)} [${fmt(c.rate.lo)}, ${fmt(c.rate.hi)}]`,
    fmt(c.control.mean),
    formatRatioCI(c.test),
    formatP(c.test.p),
    formatP(c.pHolm),
    formatP(c.students?.p),
    formatP(c.studentsHolm),
    c.exact ? `${fmt(c.exact.ratio, 2)}x ${pLabel(c.exact.p)}` : '',
    c.matched
      ? `${formatRatioCI(c.matched)} ${pLabel(c.matched.p)}` +
        (c.matchedStudents ? ` (students ${pLabel(c.matchedStudents.p)})` : '')
      : '',
  ]);
}
export const SWEEP_HEADER = [
  'cell',
  'teacher',
  'arm',
  'rate [95% CI]',
  'control',
  'ratio [95% CI]',
  'p',
  'p (Holm)',
  'p (students)',
  'p (students, Holm)',
  'exact: ratio, p',
  'vs shuffled: ratio, p',
];

export function sweepSummaryLines(r: SweepResults): string[] {
  return r.arms.flatMap((a) => [
    `${a.teacher} / ${a.arm}: p < 0.01 in ${a.below01} of ${a.cells} cells, p > 0.05 in ${a.above05}, ` +
      `significant after Holm in ${a.holmSignificant}; median ratio ${formatRatio(a.medianRatio)}` +
      (a.matched
        ? `; above its matched control at p < 0.05 in ${a.matched.below05} of ${a.matched.cells}, after Holm in ` +
          `${a.matched.holmSignificant}`
        : ''),
    ...(a.students
      ? [
          `${a.teacher} / ${a.arm}, students as units: p < 0.01 in ${a.students.below01} of ${a.cells} cells, ` +
            `p > 0.05 in ${a.students.above05}, significant after Holm in ${a.students.holmSignificant}` +
            (a.students.matchedBelow05 !== undefined
              ? `; above its matched control at p < 0.05 in ${a.students.matchedBelow05}`
              : ''),
        ]
      : []),
  ]);
}

export function sweepMarkdown(r: SweepResults): string {
  const md = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    `# Sweep ${r.grid.sweep}`,
    '',
    `Spec ${r.grid.spec} (hash ${r.grid.specHash.slice(0, 12)}); animals ${r.grid.animals.join(', ')}; seeds ` +
      `${r.grid.seeds.join(', ')}; grid registered ${r.grid.registeredAt}.`,
    '',
    ...sweepSummaryLines(r).map((l) => `- ${l}`),
    '',
    md(SWEEP_HEADER),
    md(SWEEP_HEADER.map(() => '---')),
    ...sweepRows(r).map(md),
    '',
    r.test,
    '',
    ...sweepCalibrationLines(r),
    '',
  ].join('\n');
}

/** The A/A check's lines, or why the sweep has none. */
export const sweepCalibrationLines = (r: SweepResults): string[] =>
  r.calibration ? calibrationLines(r.calibration) : [`A/A check: none (${r.calibrationNote ?? 'not run'})`];
