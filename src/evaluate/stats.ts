// Statistics for every reported rate: mean with a t-based 95% CI across independent units
// (questions), and one-sided paired sign-flip permutation tests against a control.
import { Rng } from '../util/rng.js';

export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Two-sided 97.5% quantile of Student's t with df degrees of freedom (Cornish-Fisher, exact to ~1e-4 for df >= 3). */
export function tQuantile975(df: number): number {
  if (df <= 0) return NaN;
  const table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
  if (df <= 10) return table[df - 1]!;
  const z = 1.959964;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The middle value (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export function meanCI(xs: readonly number[]): Estimate {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { mean: m, lo: NaN, hi: NaN, n };
  const half = (tQuantile975(n - 1) * sd(xs)) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n };
}

/**
 * One-sided paired sign-flip permutation test of H1: mean(a - b) > 0, over paired units.
 * p = (1 + #{flipped means >= observed}) / (1 + iterations); exact enumeration when 2^n <= iterations.
 */
export function pairedPermutationTest(
  a: readonly number[],
  b: readonly number[],
  iterations = 10000,
  seed = 0,
): { p: number; meanDiff: number; n: number } {
  if (a.length !== b.length) throw new Error('paired test needs equal-length samples');
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const observed = mean(d);
  const eps = 1e-12;
  if (n <= 16 && 2 ** n <= iterations) {
    let count = 0;
    for (let mask = 0; mask < 2 ** n; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (mask >> i) & 1 ? -d[i]! : d[i]!;
      if (s / n >= observed - eps) count++;
    }
    return { p: count / 2 ** n, meanDiff: observed, n };
  }
  const rng = Rng.from('permutation', seed);
  let count = 0;
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rng.next() < 0.5 ? -d[i]! : d[i]!;
    if (s / n >= observed - eps) count++;
  }
  return { p: (1 + count) / (1 + iterations), meanDiff: observed, n };
}

/** Regularised incomplete beta I_x(a, b) by continued fraction (Numerical Recipes' betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a); // converges faster there
  const lbeta = lgamma(a + b) - lgamma(a) - lgamma(b);
  const front = Math.exp(Math.log(x) * a + Math.log(1 - x) * b + lbeta);
  let f = 1,
    c = 1,
    d = 0;
  for (let i = 0; i <= 300; i++) {
    const m = Math.floor(i / 2);
    const num =
      i === 0
        ? 1
        : i % 2 === 0
          ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
          : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < 1e-30) d = 1e-30;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < 1e-30) c = 1e-30;
    f *= c * d;
    if (Math.abs(1 - c * d) < 1e-12) break;
  }
  return (front * (f - 1)) / a;
}

export function lgamma(z: number): number {
  // Lanczos approximation
  const g = [
    676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lgamma(1 - z);
  z -= 1;
  let x = 0.99999999999980993;
  for (let i = 0; i < g.length; i++) x += g[i]! / (z + i + 1);
  const t = z + g.length - 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** Upper tail P(T > t) of Student's t with df degrees of freedom. */
export function tUpperTail(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** One-sided Welch t-test of H1: mean(a) > mean(b). */
export function welchTest(a: readonly number[], b: readonly number[]): { p: number; t: number; df: number } {
  const va = sd(a) ** 2 / a.length;
  const vb = sd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    // both groups constant: the sign of the difference decides
    const diff = mean(a) - mean(b);
    return { p: diff > 0 ? 0 : 1, t: diff > 0 ? Infinity : diff < 0 ? -Infinity : 0, df: NaN };
  }
  const t = (mean(a) - mean(b)) / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { p: tUpperTail(t, df), t, df };
}

/** Wilson score 95% interval for a proportion k/n (sound near 0 and 1, unlike the Wald interval). */
export function wilsonCI(k: number, n: number): Estimate {
  if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n };
  const z = 1.959964;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { mean: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), n };
}

/** Regularised upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - lgamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-14; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - front * sum);
  }
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return front * h;
}

/** Upper tail P(X > x) of the chi-square distribution with df degrees of freedom. */
export const chiSquareUpperTail = (x: number, df: number): number => gammaQ(df / 2, x / 2);

/**
 * Chi-square test of homogeneity on a 2 x k table of counts (two samples over the same
 * categories). Categories empty in both samples are dropped; df = used categories - 1.
 */
export function chiSquareHomogeneity(
  a: readonly number[],
  b: readonly number[],
): { statistic: number; df: number; p: number } {
  const na = a.reduce((s, x) => s + x, 0);
  const nb = b.reduce((s, x) => s + x, 0);
  const total = na + nb;
  let statistic = 0;
  let used = 0;
  for (let i = 0; i < a.length; i++) {
    const col = a[i]! + b[i]!;
    if (col === 0) continue;
    used++;
    const ea = (col * na) / total;
    const eb = (col * nb) / total;
    statistic += (a[i]! - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  }
  const df = Math.max(1, used - 1);
  return { statistic, df, p: chiSquareUpperTail(statistic, df) };
}

export const formatEstimate = (e: Estimate, digits = 3): string =>
  e.mean === null || Number.isNaN(e.mean)
    ? 'n/a'
    : `${e.mean.toFixed(digits)} [${Number.isNaN(e.lo) ? '-' : e.lo.toFixed(digits)}, ` +
      `${Number.isNaN(e.hi) ? '-' : e.hi.toFixed(digits)}]`;

export const formatP = (p: number | undefined): string => (p === undefined ? '' : p < 1e-4 ? '<0.0001' : p.toFixed(4));
/** "p=0.0123" or "p<0.0001" for tables; spaced ("p = 0.0123", "p < 0.0001") for sentences. */
export const pLabel = (p?: number, spaced = false): string => {
  const f = formatP(p);
  const [op, value] = f.startsWith('<') ? ['<', f.slice(1)] : ['=', f];
  return spaced ? `p ${op} ${value}` : `p${op}${value}`;
};
export const formatRatio = (r: number | undefined): string =>
  r === undefined ? '' : Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a (control 0)';
/** A ratio with its 95% interval where it has one: "1.87x [1.70, 2.05]" (an unbounded end reads "inf"). */
export const formatRatioCI = (t: { ratio: number; ratioCI?: [number, number] } | undefined): string => {
  if (!t) return '';
  const end = (x: number | null): string => (x !== null && Number.isFinite(x) ? x.toFixed(2) : 'inf');
  return t.ratioCI && Number.isFinite(t.ratio)
    ? `${formatRatio(t.ratio)} [${end(t.ratioCI[0])}, ${end(t.ratioCI[1])}]`
    : formatRatio(t.ratio);
};

/**
 * 95% interval of mean(a) / mean(b) over paired units (questions): percentile bootstrap that
 * resamples the units, seeded. [lo, hi]; hi is Infinity where a resample's control mean is 0.
 */
export function ratioCI(a: readonly number[], b: readonly number[], resamples = 2000, seed = 0): [number, number] {
  if (a.length !== b.length || a.length < 2) return [NaN, NaN];
  const rng = Rng.from('ratio-bootstrap', seed);
  const n = a.length;
  const ratios: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rng.next() * n);
      sa += a[k]!;
      sb += b[k]!;
    }
    ratios.push(sb > 0 ? sa / sb : Infinity);
  }
  ratios.sort((x, y) => x - y);
  return [ratios[Math.floor(0.025 * resamples)]!, ratios[Math.ceil(0.975 * resamples) - 1]!];
}

/** Holm's step-down adjustment of a family of p-values (same order as given). */
export function holm(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(ps.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p));
    out[i] = running;
  });
  return out;
}
