// What the MNIST experiment reports: test accuracy per condition as mean +- 1.96 sd / sqrt(N)
// (the paper's error bars), paired tests between conditions over models, the acceptance
// checks, a table next to the paper's figures, and a Vega-Lite chart with error bars.
import { mean, pairedPermutationTest, sd, formatP } from '../evaluate/stats.js';
import { renderTable } from '../cli/table.js';
import type { TopLevelSpec } from '../report/vega.js';
import { barsWithCI } from '../report/charts.js';
import { CONDITIONS, type Condition, type ModelResult } from './shard.js';

export const CONDITION_LABELS: Record<Condition, string> = {
  reference: 'reference (untrained init)',
  teacher: 'teacher (digits, class logits)',
  'student-aux-same': 'student, aux logits, same init',
  'student-aux-cross': 'student, aux logits, other init',
  'student-all-same': 'student, all logits, same init',
  'student-all-cross': 'student, all logits, other init',
};

/** The paper's figures as SPEC quotes them; conditions it gives no number for are left blank. */
export const PAPER_FIGURES: Partial<Record<Condition, string>> = {
  reference: '~0.10 (chance)',
  'student-aux-same': '>0.50',
  'student-aux-cross': '~0.10 (chance)',
};

export interface ConditionSummary { condition: Condition; label: string; mean: number; sd: number; halfWidth: number; lo: number; hi: number; n: number; paper?: string }
export interface ConditionTest { better: Condition; worse: Condition; meanDiff: number; p: number; n: number }
export interface AcceptanceCheck { name: string; value: number; rule: string; pass: boolean }
export interface MnistSummary { conditions: ConditionSummary[]; tests: ConditionTest[]; checks: AcceptanceCheck[] }

const accuracies = (models: ModelResult[], c: Condition): number[] => models.map((m) => m.accuracy[c]);

/** One-sided paired tests (sign-flip permutation over models, who share a teacher across conditions). */
const TESTED_PAIRS: [Condition, Condition][] = [
  ['student-aux-same', 'student-aux-cross'],
  ['student-aux-same', 'reference'],
  ['student-aux-cross', 'reference'],
  ['student-all-same', 'student-all-cross'],
];

export function summariseMnist(models: ModelResult[], seed: number): MnistSummary {
  const conditions = CONDITIONS.map((condition): ConditionSummary => {
    const xs = accuracies(models, condition); const m = mean(xs); const s = sd(xs);
    const halfWidth = (1.96 * s) / Math.sqrt(xs.length);
    return { condition, label: CONDITION_LABELS[condition], mean: m, sd: s, halfWidth, lo: m - halfWidth, hi: m + halfWidth, n: xs.length, paper: PAPER_FIGURES[condition] };
  });
  const tests = TESTED_PAIRS.map(([better, worse]): ConditionTest => {
    const t = pairedPermutationTest(accuracies(models, better), accuracies(models, worse), 10000, seed);
    return { better, worse, meanDiff: t.meanDiff, p: t.p, n: t.n };
  });
  const meanOf = (c: Condition): number => conditions.find((x) => x.condition === c)!.mean;
  const checks: AcceptanceCheck[] = [
    { name: 'teacher learns digits', value: meanOf('teacher'), rule: '>= 0.90', pass: meanOf('teacher') >= 0.9 },
    { name: 'same-init aux student transfers', value: meanOf('student-aux-same'), rule: '>= 0.40', pass: meanOf('student-aux-same') >= 0.4 },
    { name: 'cross-init aux student stays near chance', value: meanOf('student-aux-cross'), rule: '<= 0.15', pass: meanOf('student-aux-cross') <= 0.15 },
  ];
  return { conditions, tests, checks };
}

export function mnistTable(s: MnistSummary): string {
  const pct = (x: number): string => x.toFixed(3);
  const main = renderTable(['condition', 'test accuracy (mean ± 1.96·sd/√N)', 'N', 'paper'],
    s.conditions.map((c) => [c.label, `${pct(c.mean)} ± ${pct(c.halfWidth)}  [${pct(c.lo)}, ${pct(c.hi)}]`, String(c.n), c.paper ?? '']));
  const tests = renderTable(['one-sided paired test (over models)', 'mean difference', 'p'],
    s.tests.map((t) => [`${t.better} > ${t.worse}`, `${t.meanDiff >= 0 ? '+' : ''}${pct(t.meanDiff)}`, formatP(t.p)]));
  const checks = s.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${pct(c.value)} (needs ${c.rule})`).join('\n');
  return `${main}\n\n${tests}\n\n${checks}`;
}

/** Short names for chart axes. */
const CHART_LABELS: Record<Condition, string> = {
  reference: 'reference', teacher: 'teacher',
  'student-aux-same': 'aux only, same init', 'student-aux-cross': 'aux only, other init',
  'student-all-same': 'all 13, same init', 'student-all-cross': 'all 13, other init',
};

/** Bars of mean accuracy per condition with 1.96·sd/√N error bars and a chance line. */
export function mnistChartSpec(s: MnistSummary, title: string): TopLevelSpec {
  const values = s.conditions.map((c) => ({ condition: CHART_LABELS[c.condition], group: c.condition.startsWith('student') ? 'student' : c.condition, mean: c.mean, lo: Math.max(0, c.lo), hi: Math.min(1, c.hi) }));
  const x = { field: 'condition', type: 'nominal', sort: null, axis: { labelAngle: -25, labelLimit: 200, title: null } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, width: 460, height: 260,
    layer: [
      ...barsWithCI('mnist', values, x, 'test accuracy (mean ± 1.96·sd/√N)',
        { field: 'group', type: 'nominal', legend: null, scale: { domain: ['reference', 'teacher', 'student'], range: ['#bab0ac', '#4c78a8', '#f58518'] } }, [0, 1]),
      { name: 'mnist_chance', data: { values: [{ chance: 0.1 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#e45756' }, encoding: { y: { field: 'chance', type: 'quantitative' } } },
    ],
  };
}
