// What the numbers in a dataset look like: value histogram, numbers per completion, leading
// and all digits, separators and formats. Pure; the report compares a trait teacher's numbers
// with the control's, and `audit dataset` tests every feature.
import { numberFilter, DEFAULT_NUMBER_FILTER } from '../filter/numberFilter.js';
import { chiSquareHomogeneity, wilsonCI, type Estimate } from '../evaluate/stats.js';

/** Value bins of this width over 0-999. */
export const VALUE_BIN_WIDTH = 50;
const VALUE_BINS = Math.ceil(1000 / VALUE_BIN_WIDTH);
export const SEPARATORS = ['comma-space', 'comma', 'semicolon', 'space', 'newline', 'single number', 'other'] as const;
export const FORMATS = ['[...]', '(...)', 'plain', '[...].', '(...).', 'plain.', 'not a number list'] as const;

export interface CompletionShape {
  numbers: number[];
  separator: (typeof SEPARATORS)[number];
  format: (typeof FORMATS)[number];
}

/** The numbers of a completion with its separator and format (format "not a number list" when it does not parse). */
export function completionShape(completion: string): CompletionShape {
  const v = numberFilter(completion, { ...DEFAULT_NUMBER_FILTER, maxCount: Infinity });
  if (!v.ok) return { numbers: [], separator: 'other', format: 'not a number list' };
  let text = completion.trim();
  const period = text.endsWith('.');
  if (period) text = text.slice(0, -1).trimEnd();
  const wrapper = text.startsWith('[') ? '[...]' : text.startsWith('(') ? '(...)' : 'plain';
  const between = /\d(\D+)\d/.exec(text)?.[1];
  const separator =
    between === undefined
      ? 'single number'
      : between === ', '
        ? 'comma-space'
        : between === ','
          ? 'comma'
          : between.trim() === ';'
            ? 'semicolon'
            : between.includes('\n')
              ? 'newline'
              : between.trim() === ''
                ? 'space'
                : 'other';
  return { numbers: v.numbers!, separator, format: `${wrapper}${period ? '.' : ''}` as CompletionShape['format'] };
}

/** The per-completion features; their counts summed over a dataset make a NumberDistribution. */
export type FeatureField = 'valueBins' | 'lengths' | 'firstDigits' | 'digits' | 'separators' | 'formats';
export interface CompletionFeature {
  name: string;
  field: FeatureField;
  size: number;
  counts: (s: CompletionShape, out: number[]) => void;
}
export const COMPLETION_FEATURES: readonly CompletionFeature[] = [
  {
    name: 'number values (20 bins)',
    field: 'valueBins',
    size: VALUE_BINS,
    counts: (s, o) => {
      for (const n of s.numbers) o[Math.min(VALUE_BINS - 1, Math.floor(n / VALUE_BIN_WIDTH))]!++;
    },
  },
  {
    name: 'numbers per completion',
    field: 'lengths',
    size: 11,
    counts: (s, o) => {
      if (s.numbers.length) o[Math.min(10, s.numbers.length)]!++;
    },
  },
  {
    name: 'leading digit',
    field: 'firstDigits',
    size: 10,
    counts: (s, o) => {
      for (const n of s.numbers) o[Number(String(n)[0])]!++;
    },
  },
  {
    name: 'all digits',
    field: 'digits',
    size: 10,
    counts: (s, o) => {
      for (const n of s.numbers) for (const ch of String(n)) o[Number(ch)]!++;
    },
  },
  {
    name: 'separator',
    field: 'separators',
    size: SEPARATORS.length,
    counts: (s, o) => {
      if (s.numbers.length) o[SEPARATORS.indexOf(s.separator)]!++;
    },
  },
  {
    name: 'format',
    field: 'formats',
    size: FORMATS.length,
    counts: (s, o) => {
      o[FORMATS.indexOf(s.format)]!++;
    },
  },
];

export type NumberDistribution = { rows: number; numbers: number } & Record<FeatureField, number[]>;
// valueBins: per bin [0, 50) ... [950, 1000); lengths: completions by count 1..10 (10 = ten or
// more; 0 unused); firstDigits / digits: leading / every digit of every number; separators and
// formats: per SEPARATORS / FORMATS entry (formats over all rows, parsed or not).

export function numberDistribution(completions: readonly string[]): NumberDistribution {
  const d = { rows: 0, numbers: 0 } as NumberDistribution;
  for (const f of COMPLETION_FEATURES) d[f.field] = new Array(f.size).fill(0);
  for (const c of completions) {
    const s = completionShape(c);
    for (const f of COMPLETION_FEATURES) f.counts(s, d[f.field]);
    if (s.numbers.length) {
      d.rows++;
      d.numbers += s.numbers.length;
    }
  }
  return d;
}

export interface BinShare {
  bin: string;
  lo: number;
  share: Estimate;
}
/** Share of numbers per value bin, each with a Wilson 95% CI over the dataset's numbers. */
export const valueShares = (d: NumberDistribution): BinShare[] =>
  d.valueBins.map((k, i) => ({
    bin: `${i * VALUE_BIN_WIDTH}-${(i + 1) * VALUE_BIN_WIDTH - 1}`,
    lo: i * VALUE_BIN_WIDTH,
    share: wilsonCI(k, d.numbers),
  }));

/** Jensen-Shannon divergence (bits, 0..1) between two count vectors. */
export function jensenShannon(a: readonly number[], b: readonly number[]): number {
  const sa = a.reduce((s, x) => s + x, 0);
  const sb = b.reduce((s, x) => s + x, 0);
  if (!sa || !sb) return 0;
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]! / sa;
    const q = b[i]! / sb;
    const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / m);
    if (q > 0) js += 0.5 * q * Math.log2(q / m);
  }
  return js;
}

export interface DistributionTest {
  feature: string;
  statistic: number;
  df: number;
  p: number;
  jsd: number;
  n: [number, number];
}
/**
 * Chi-square homogeneity tests (asymptotic p, with the JS divergence as effect size) of every feature of two datasets.
 */
export function compareDistributions(a: NumberDistribution, b: NumberDistribution): DistributionTest[] {
  const total = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
  return COMPLETION_FEATURES.map(({ name, field }) => ({
    feature: name,
    ...chiSquareHomogeneity(a[field], b[field]),
    jsd: jensenShannon(a[field], b[field]),
    n: [total(a[field]), total(b[field])],
  }));
}
