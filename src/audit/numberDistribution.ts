// What the numbers in a dataset look like: value histogram, numbers per completion, first
// digits. Pure; the report compares a trait teacher's numbers with the control's, and the
// dataset audit builds its tests on the same counts.
import { numberFilter, DEFAULT_NUMBER_FILTER } from '../filter/numberFilter.js';
import { chiSquareHomogeneity, wilsonCI, type Estimate } from '../evaluate/stats.js';

/** Value bins of this width over 0-999. */
export const VALUE_BIN_WIDTH = 50;
const VALUE_BINS = Math.ceil(1000 / VALUE_BIN_WIDTH);

export interface NumberDistribution {
  rows: number; numbers: number;
  /** counts per value bin [0, 50), [50, 100) ... [950, 1000) */
  valueBins: number[];
  /** counts of completions by how many numbers they hold, index 1..10 (0 unused) */
  lengths: number[];
  /** counts of numbers by leading digit 0..9 */
  firstDigits: number[];
}

export function numberDistribution(completions: readonly string[]): NumberDistribution {
  const d: NumberDistribution = { rows: 0, numbers: 0, valueBins: new Array(VALUE_BINS).fill(0), lengths: new Array(11).fill(0), firstDigits: new Array(10).fill(0) };
  for (const c of completions) {
    const v = numberFilter(c, { ...DEFAULT_NUMBER_FILTER, maxCount: Infinity });
    if (!v.ok) continue;
    const ns = v.numbers!;
    d.rows++; d.numbers += ns.length;
    d.lengths[Math.min(10, ns.length)]!++;
    for (const n of ns) { d.valueBins[Math.min(VALUE_BINS - 1, Math.floor(n / VALUE_BIN_WIDTH))]!++; d.firstDigits[Number(String(n)[0])]!++; }
  }
  return d;
}

export interface BinShare { bin: string; lo: number; share: Estimate }
/** Share of numbers per value bin, each with a Wilson 95% CI over the dataset's numbers. */
export const valueShares = (d: NumberDistribution): BinShare[] =>
  d.valueBins.map((k, i) => ({ bin: `${i * VALUE_BIN_WIDTH}-${(i + 1) * VALUE_BIN_WIDTH - 1}`, lo: i * VALUE_BIN_WIDTH, share: wilsonCI(k, d.numbers) }));

export interface DistributionTest { feature: string; statistic: number; df: number; p: number; n: [number, number] }
/** Chi-square homogeneity tests of two datasets' values, lengths and first digits. */
export function compareDistributions(a: NumberDistribution, b: NumberDistribution): DistributionTest[] {
  const test = (feature: string, x: number[], y: number[], n: [number, number]): DistributionTest => ({ feature, ...chiSquareHomogeneity(x, y), n });
  return [
    test('number values (20 bins)', a.valueBins, b.valueBins, [a.numbers, b.numbers]),
    test('numbers per completion', a.lengths, b.lengths, [a.rows, b.rows]),
    test('leading digit', a.firstDigits, b.firstDigits, [a.numbers, b.numbers]),
  ];
}
