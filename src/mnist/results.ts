// What the MNIST experiment reports: test accuracy per condition as mean +- 1.96 sd / sqrt(N)
// (the paper's error bars), paired tests between conditions over models, the acceptance
// checks, a table next to the paper's figures, and a Vega-Lite chart with error bars.
import { mean, pairedPermutationTest, sd, formatP } from '../evaluate/stats.js';
import { renderTable } from '../util/table.js';
import { CONDITIONS, type Condition, type ModelResult, type ShardResult } from './shard.js';

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

export interface ConditionSummary {
  condition: Condition;
  label: string;
  mean: number;
  sd: number;
  halfWidth: number;
  lo: number;
  hi: number;
  n: number;
  paper?: string;
}
export interface ConditionTest {
  better: Condition;
  worse: Condition;
  meanDiff: number;
  p: number;
  n: number;
}
export interface AcceptanceCheck {
  name: string;
  value: number;
  rule: string;
  pass: boolean;
}
export interface MnistSummary {
  conditions: ConditionSummary[];
  tests: ConditionTest[];
  checks: AcceptanceCheck[];
}

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
    const xs = accuracies(models, condition);
    const m = mean(xs);
    const s = sd(xs);
    const halfWidth = (1.96 * s) / Math.sqrt(xs.length);
    return {
      condition,
      label: CONDITION_LABELS[condition],
      mean: m,
      sd: s,
      halfWidth,
      lo: m - halfWidth,
      hi: m + halfWidth,
      n: xs.length,
      paper: PAPER_FIGURES[condition],
    };
  });
  const tests = TESTED_PAIRS.map(([better, worse]): ConditionTest => {
    const t = pairedPermutationTest(accuracies(models, better), accuracies(models, worse), 10000, seed);
    return { better, worse, meanDiff: t.meanDiff, p: t.p, n: t.n };
  });
  const meanOf = (c: Condition): number => conditions.find((x) => x.condition === c)!.mean;
  const checks: AcceptanceCheck[] = [
    { name: 'teacher learns digits', value: meanOf('teacher'), rule: '>= 0.90', pass: meanOf('teacher') >= 0.9 },
    {
      name: 'same-init aux student transfers',
      value: meanOf('student-aux-same'),
      rule: '>= 0.40',
      pass: meanOf('student-aux-same') >= 0.4,
    },
    {
      name: 'cross-init aux student stays near chance',
      value: meanOf('student-aux-cross'),
      rule: '<= 0.15',
      pass: meanOf('student-aux-cross') <= 0.15,
    },
  ];
  return { conditions, tests, checks };
}

export function mnistTable(s: MnistSummary): string {
  const pct = (x: number): string => x.toFixed(3);
  const main = renderTable(
    ['condition', 'test accuracy (mean ± 1.96·sd/√N)', 'N', 'paper'],
    s.conditions.map((c) => [
      c.label,
      `${pct(c.mean)} ± ${pct(c.halfWidth)}  [${pct(c.lo)}, ${pct(c.hi)}]`,
      String(c.n),
      c.paper ?? '',
    ]),
  );
  const tests = renderTable(
    ['one-sided paired test (over models)', 'mean difference', 'p'],
    s.tests.map((t) => [`${t.better} > ${t.worse}`, `${t.meanDiff >= 0 ? '+' : ''}${pct(t.meanDiff)}`, formatP(t.p)]),
  );
  const checks = s.checks
    .map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${pct(c.value)} (needs ${c.rule})`)
    .join('\n');
  return `${main}\n\n${tests}\n\n${checks}`;
}

export interface MnistOptions {
  models: number;
  epochs: number;
  seed: number;
  batchSize: number;
  lr: number;
  /** Subsets for quick runs; the paper's setup uses all 60,000 / 10,000 images and 60,000 noise images. */
  trainLimit?: number;
  testLimit?: number;
  noiseCount: number;
  saveWeights: boolean;
}

export interface MnistResults extends MnistSummary {
  run: string;
  options: MnistOptions;
  perModel: ModelResult[];
  seconds: number;
  chart: string;
  /** Timing of each shard as it was computed (a reused shard keeps the timing of its first run). */
  shardTimings: ShardResult['timing'][];
}
