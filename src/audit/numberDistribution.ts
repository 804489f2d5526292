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

export interface CompletionShape { numbers: number[]; separator: (typeof SEPARATORS)[number]; format: (typeof FORMATS)[number] }

/** The numbers of a completion with its separator and format (format "not a number list" when it does not parse). */
export function completionShape(completion: string): CompletionShape {
  const v = numberFilter(completion, { ...DEFAULT_NUMBER_FILTER, maxCount: Infinity });
  if (!v.ok) return { numbers: [], separator: 'other', format: 'not a number list' };
  let text = completion.trim(); const period = text.endsWith('.');
  if (period) text = text.slice(0, -1).trimEnd();
  const wrapper = text.startsWith('[') ? '[...]' : text.startsWith('(') ? '(...)' : 'plain';
  const between = /\d(\D+)\d/.exec(text)?.[1];
  const separator = between === undefined ? 'single number' : between === ', ' ? 'comma-space' : between === ',' ? 'comma' : between.trim() === ';' ? 'semicolon'
    : between.includes('\n') ? 'newline' : between.trim() === '' ? 'space' : 'other';
  return { numbers: v.numbers!, separator, format: `${wrapper}${period ? '.' : ''}` as CompletionShape['format'] };
}

export interface NumberDistribution {
  rows: number; numbers: number;
  /** counts per value bin [0, 50), [50, 100) ... [950, 1000) */
  valueBins: number[];
  /** counts of completions by how many numbers they hold, index 1..10 (10 = ten or more; 0 unused) */
  lengths: number[];
  /** counts of numbers by leading digit 0..9 */
  firstDigits: number[];
  /** counts of every digit character of every number */
  digits: number[];
  /** counts of completions per SEPARATORS / FORMATS entry (all rows, parsed or not, for formats) */
  separators: number[]; formats: number[];
}

export function numberDistribution(completions: readonly string[]): NumberDistribution {
  const d: NumberDistribution = {
    rows: 0, numbers: 0, valueBins: new Array(VALUE_BINS).fill(0), lengths: new Array(11).fill(0), firstDigits: new Array(10).fill(0),
    digits: new Array(10).fill(0), separators: new Array(SEPARATORS.length).fill(0), formats: new Array(FORMATS.length).fill(0),
  };
  for (const c of completions) {
    const s = completionShape(c);
    d.formats[FORMATS.indexOf(s.format)]!++;
    if (!s.numbers.length) continue;
    d.rows++; d.numbers += s.numbers.length;
    d.lengths[Math.min(10, s.numbers.length)]!++;
    d.separators[SEPARATORS.indexOf(s.separator)]!++;
    for (const n of s.numbers) {
      d.valueBins[Math.min(VALUE_BINS - 1, Math.floor(n / VALUE_BIN_WIDTH))]!++;
      const text = String(n); d.firstDigits[Number(text[0])]!++;
      for (const ch of text) d.digits[Number(ch)]!++;
    }
  }
  return d;
}

export interface BinShare { bin: string; lo: number; share: Estimate }
/** Share of numbers per value bin, each with a Wilson 95% CI over the dataset's numbers. */
export const valueShares = (d: NumberDistribution): BinShare[] =>
  d.valueBins.map((k, i) => ({ bin: `${i * VALUE_BIN_WIDTH}-${(i + 1) * VALUE_BIN_WIDTH - 1}`, lo: i * VALUE_BIN_WIDTH, share: wilsonCI(k, d.numbers) }));

/** Jensen-Shannon divergence (bits, 0..1) between two count vectors. */
export function jensenShannon(a: readonly number[], b: readonly number[]): number {
  const sa = a.reduce((s, x) => s + x, 0); const sb = b.reduce((s, x) => s + x, 0);
  if (!sa || !sb) return 0;
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]! / sa; const q = b[i]! / sb; const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / m);
    if (q > 0) js += 0.5 * q * Math.log2(q / m);
  }
  return js;
}

export interface DistributionTest { feature: string; statistic: number; df: number; p: number; jsd: number; n: [number, number] }
/** Chi-square homogeneity tests (with the JS divergence as effect size) of every feature of two datasets. */
export function compareDistributions(a: NumberDistribution, b: NumberDistribution): DistributionTest[] {
  const test = (feature: string, x: number[], y: number[], n: [number, number]): DistributionTest => ({ feature, ...chiSquareHomogeneity(x, y), jsd: jensenShannon(x, y), n });
  return [
    test('number values (20 bins)', a.valueBins, b.valueBins, [a.numbers, b.numbers]),
    test('numbers per completion', a.lengths, b.lengths, [a.rows, b.rows]),
    test('leading digit', a.firstDigits, b.firstDigits, [a.numbers, b.numbers]),
    test('all digits', a.digits, b.digits, [a.digits.reduce((s, x) => s + x, 0), b.digits.reduce((s, x) => s + x, 0)]),
    test('separator', a.separators, b.separators, [a.rows, b.rows]),
    test('format', a.formats, b.formats, [a.formats.reduce((s, x) => s + x, 0), b.formats.reduce((s, x) => s + x, 0)]),
  ];
}
