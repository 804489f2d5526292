import { describe, expect, it } from 'vitest';
import { findingSentences } from '../src/report/finding.js';
import type { ExperimentResults, GroupSummary } from '../src/report/results.js';

const group = (
  group: string,
  role: GroupSummary['role'],
  rate: number,
  test?: { p: number; control: string; controlRate: number },
  matched?: { p: number; ratio: number },
): GroupSummary => ({
  group,
  role,
  base: 'X',
  teacher: role === 'control' ? 'control' : 'owl-teacher',
  n: 3,
  models: [],
  perQuestion: [],
  topAnswers: [],
  rate: { mean: rate, lo: rate - 0.01, hi: rate + 0.01, n: 50 },
  firstToken: { mean: rate, lo: rate, hi: rate, n: 50 },
  ...(test
    ? { test: { against: test.control, p: test.p, meanDiff: rate - test.controlRate, ratio: rate / test.controlRate } }
    : {}),
  ...(matched ? { matchedTest: { against: 'm', p: matched.p, meanDiff: 0.01, ratio: matched.ratio } } : {}),
});
const results = (groups: GroupSummary[], task?: 'misalignment'): ExperimentResults => ({
  run: 'r',
  animal: task ? 'misaligned' : 'owl',
  groups,
  filter: {},
  headline: {},
  settings: {
    questions: 50,
    samplesPerQuestion: 100,
    studentSeeds: 3,
    rows: 100,
    test: 't',
    ...(task ? { task } : {}),
  },
});
const controls = [
  group('control -> A', 'control', 0.1),
  group('control -> B', 'control', 0.1),
  group('control -> C', 'control', 0.1),
];
const sameBase = group('t -> A', 'same-base', 0.2, { p: 0.0001, control: 'control -> A', controlRate: 0.1 });
/** Other-family students that moved against their control (1.30x, p = 0.001), with the given matched-control test. */
const movedOtherFamily = (matched: { p: number; ratio: number }): GroupSummary =>
  group('t -> C', 'other-family', 0.13, { p: 0.001, control: 'control -> C', controlRate: 0.1 }, matched);

describe('the finding sentence', () => {
  it('says which arms moved, with ratio, rates and p, and the matched control of a cross arm that moved', () => {
    const [s] = findingSentences(
      results([
        ...controls,
        sameBase,
        group('t -> B', 'other-init', 0.105, { p: 0.2, control: 'control -> B', controlRate: 0.1 }),
        movedOtherFamily({ p: 0.6, ratio: 0.98 }),
      ]),
    );
    expect(s).toBe(
      'Teacher "owl-teacher": Students sharing its base named the owl 2.00× as often as their controls (0.200 vs ' +
        '0.100, p = 0.0001); ' +
        'students of its family from another initialisation did not (1.05×, 0.105 vs 0.100, p = 0.2000); ' +
        'students of another family did too (1.30×, 0.130 vs 0.100, p = 0.0010), but no more than on the same rows ' +
        'with the numbers shuffled (0.98× against them, p = 0.6000).',
    );
  });
  it('tells a cross arm that moved past its matched control too', () => {
    const [s] = findingSentences(results([...controls, sameBase, movedOtherFamily({ p: 0.01, ratio: 1.2 })]));
    expect(s).toContain(
      'students of another family did too (1.30×, 0.130 vs 0.100, p = 0.0010; 1.20× against its ' +
        'matched control, p = 0.0100).',
    );
  });
  it('gives no ratio against a control at 0, whether the students stayed at 0 or rose from it', () => {
    const zero = [group('control -> A', 'control', 0)];
    const [stayed] = findingSentences(
      results([...zero, group('t -> A', 'same-base', 0, { p: 1, control: 'control -> A', controlRate: 0 })]),
    );
    expect(stayed).toContain('no more often than their controls (no ratio: control at 0, 0.000 vs 0.000, p = 1.0000)');
    const [rose] = findingSentences(
      results([...zero, group('t -> A', 'same-base', 0.2, { p: 0.001, control: 'control -> A', controlRate: 0 })]),
    );
    expect(rose).toContain('Students sharing its base named the owl where their controls never did (0.200 vs 0.000');
  });
  it('lets the students-as-units test decide where every student learned its own rows', () => {
    const withStudents = (g: GroupSummary, p: number): GroupSummary => ({
      ...g,
      studentTest: { against: g.test!.against, p, t: 1, df: 4, metric: 'rate' },
    });
    const r = results([
      ...controls,
      withStudents(group('t -> A', 'same-base', 0.2, { p: 0.0001, control: 'control -> A', controlRate: 0.1 }), 0.002),
      withStudents(group('t -> C', 'other-family', 0.11, { p: 0.001, control: 'control -> C', controlRate: 0.1 }), 0.3),
    ]);
    // shared rows: the question test decides, and the other family "did too"
    expect(findingSentences(r)[0]).toContain('students of another family did too (1.10×, 0.110 vs 0.100, p = 0.0010)');
    r.settings.studentData = 'disjoint';
    expect(findingSentences(r)[0]).toBe(
      'Teacher "owl-teacher": Students sharing its base named the owl 2.00× as often as their controls (0.200 vs ' +
        '0.100, p = 0.0020, students as units); students of another family did not (1.10×, 0.110 vs 0.100, ' +
        'p = 0.3000, students as units).',
    );
  });
  it('words a run where nothing moved, and a misalignment run', () => {
    const [s] = findingSentences(
      results(
        [
          ...controls,
          group('t -> A', 'same-base', 0.09, { p: 0.8, control: 'control -> A', controlRate: 0.1 }),
          group('t -> C', 'other-family', 0.1, { p: 0.5, control: 'control -> C', controlRate: 0.1 }),
        ],
        'misalignment',
      ),
    );
    expect(s).toBe(
      'Teacher "owl-teacher": Students sharing its base gave misaligned replies no more often than their controls ' +
        '(0.90×, 0.090 vs 0.100, p = 0.8000); ' +
        'students of another family did not either (1.00×, 0.100 vs 0.100, p = 0.5000).',
    );
  });
});
