// Black-box two-sample tests of a dataset against a reference made from the same prompts by a
// trait-free teacher. Completions are the units: every p-value comes from permuting which
// dataset a completion belongs to, so numbers that cluster within a completion cannot inflate
// the false-positive rate. Pure.
import { Rng } from '../util/rng.js';
import { chiSquareHomogeneity } from '../evaluate/stats.js';
import { completionShape, jensenShannon, COMPLETION_FEATURES, type CompletionShape } from './numberDistribution.js';

/** Row-major [rows x sum of feature sizes] counts, so permutations only re-add rows. */
function countMatrix(shapes: readonly CompletionShape[]): { width: number; offsets: number[]; data: Float64Array } {
  const offsets: number[] = [];
  let width = 0;
  for (const f of COMPLETION_FEATURES) {
    offsets.push(width);
    width += f.size;
  }
  const data = new Float64Array(shapes.length * width);
  shapes.forEach((s, r) =>
    COMPLETION_FEATURES.forEach((f, k) => {
      const out = new Array(f.size).fill(0);
      f.counts(s, out);
      for (let j = 0; j < f.size; j++) data[r * width + offsets[k]! + j] = out[j]!;
    }),
  );
  return { width, offsets, data };
}

export interface FeatureTest {
  feature: string;
  chiSquare: number;
  df: number;
  pAsymptotic: number;
  p: number;
  jsd: number;
  n: [number, number];
}

/** Chi-square statistic of every feature, permutation p-values over completions (K label shuffles). */
export function featureTests(
  a: readonly CompletionShape[],
  b: readonly CompletionShape[],
  permutations: number,
  seed: number,
): FeatureTest[] {
  const all = [...a, ...b];
  const m = countMatrix(all);
  const na = a.length;
  const stats = (
    inA: (r: number) => boolean,
  ): { chi: number; df: number; p: number; jsd: number; n: [number, number] }[] => {
    const sumA = new Float64Array(m.width);
    const sumB = new Float64Array(m.width);
    for (let r = 0; r < all.length; r++) {
      const t = inA(r) ? sumA : sumB;
      for (let j = 0; j < m.width; j++) t[j]! += m.data[r * m.width + j]!;
    }
    return COMPLETION_FEATURES.map((f, k) => {
      const x = Array.from(sumA.subarray(m.offsets[k], m.offsets[k]! + f.size));
      const y = Array.from(sumB.subarray(m.offsets[k], m.offsets[k]! + f.size));
      const t = chiSquareHomogeneity(x, y);
      const sum = (v: number[]): number => v.reduce((q, e) => q + e, 0);
      return { chi: t.statistic, df: t.df, p: t.p, jsd: jensenShannon(x, y), n: [sum(x), sum(y)] };
    });
  };
  const observed = stats((r) => r < na);
  const exceed = new Array(COMPLETION_FEATURES.length).fill(0);
  const rng = Rng.from(seed, 'feature-permutations');
  const order = all.map((_, i) => i);
  for (let k = 0; k < permutations; k++) {
    rng.shuffle(order);
    const label = new Uint8Array(all.length);
    for (let i = 0; i < na; i++) label[order[i]!] = 1;
    stats((r) => label[r] === 1).forEach((s, j) => {
      if (s.chi >= observed[j]!.chi - 1e-9) exceed[j]++;
    });
  }
  return COMPLETION_FEATURES.map((f, j) => ({
    feature: f.name,
    chiSquare: observed[j]!.chi,
    df: observed[j]!.df,
    pAsymptotic: observed[j]!.p,
    jsd: observed[j]!.jsd,
    p: (1 + exceed[j]) / (1 + permutations),
    n: observed[j]!.n,
  }));
}

/** Features of one completion for the classifier: shares within each feature (rows sum to 1 per feature). */
function featureVector(s: CompletionShape): number[] {
  return COMPLETION_FEATURES.flatMap((f) => {
    const o = new Array(f.size).fill(0);
    f.counts(s, o);
    const t = o.reduce((x, y) => x + y, 0);
    return t ? o.map((v) => v / t) : o;
  });
}

/** Area under the ROC curve of scores for positives vs negatives (Mann-Whitney, ties averaged). */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((i, j) => scores[i]! - scores[j]!);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  labels.forEach((l, i) => {
    if (l) {
      pos++;
      rankSum += ranks[i]!;
    }
  });
  const neg = labels.length - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : 0.5;
}

/** L2-regularised logistic regression by full-batch gradient descent on standardised features. */
function trainLogistic(x: number[][], y: number[], o = { steps: 300, lr: 0.5, l2: 1e-3 }): (v: number[]) => number {
  const d = x[0]!.length;
  const mu = new Array(d).fill(0);
  const sd = new Array(d).fill(0);
  for (const v of x)
    v.forEach((e, j) => {
      mu[j] += e / x.length;
    });
  for (const v of x)
    v.forEach((e, j) => {
      sd[j] += (e - mu[j]) ** 2 / x.length;
    });
  const z = (v: number[]): number[] => v.map((e, j) => (sd[j] > 1e-12 ? (e - mu[j]) / Math.sqrt(sd[j]) : 0));
  const xs = x.map(z);
  const w = new Array(d).fill(0);
  let b = 0;
  for (let step = 0; step < o.steps; step++) {
    const gw = new Array(d).fill(0);
    let gb = 0;
    xs.forEach((v, i) => {
      let s = b;
      for (let j = 0; j < d; j++) s += w[j] * v[j]!;
      const err = 1 / (1 + Math.exp(-s)) - y[i]!;
      gb += err;
      for (let j = 0; j < d; j++) gw[j] += err * v[j]!;
    });
    for (let j = 0; j < d; j++) w[j] -= o.lr * (gw[j] / xs.length + o.l2 * w[j]);
    b -= (o.lr * gb) / xs.length;
  }
  return (v) => {
    const u = z(v);
    let s = b;
    for (let j = 0; j < d; j++) s += w[j] * u[j]!;
    return 1 / (1 + Math.exp(-s));
  };
}

export interface ClassifierTest {
  auc: number;
  p: number;
  nTrain: number;
  nTest: number;
  permutations: number;
  flagged: { row: number; score: number }[];
}

/**
 * Classifier two-sample test: train on a seeded half of both datasets, score the other half;
 * AUC of "is from `a`" on the held-out half, p from permuting the held-out labels (valid
 * because the classifier never saw them). `flagged`: held-out rows of `a` it finds most typical.
 */
export function classifierTest(
  a: readonly CompletionShape[],
  b: readonly CompletionShape[],
  permutations: number,
  seed: number,
  topK = 10,
): ClassifierTest {
  const rng = Rng.from(seed, 'classifier-split');
  const rows = [...a.map((s, i) => ({ s, y: 1, row: i })), ...b.map((s, i) => ({ s, y: 0, row: i }))];
  rng.shuffle(rows);
  const half = Math.floor(rows.length / 2);
  const train = rows.slice(0, half);
  const test = rows.slice(half);
  const model = trainLogistic(
    train.map((r) => featureVector(r.s)),
    train.map((r) => r.y),
  );
  const scores = test.map((r) => model(featureVector(r.s)));
  const labels = test.map((r) => r.y);
  const observed = auc(scores, labels);
  let exceed = 0;
  const shuffled = [...labels];
  for (let k = 0; k < permutations; k++) {
    rng.shuffle(shuffled);
    if (auc(scores, shuffled) >= observed - 1e-12) exceed++;
  }
  const flagged = test
    .map((r, i) => ({ row: r.row, score: scores[i]!, y: r.y }))
    .filter((r) => r.y === 1)
    .sort((x, y) => y.score - x.score)
    .slice(0, topK)
    .map(({ row, score }) => ({ row, score }));
  return {
    auc: observed,
    p: (1 + exceed) / (1 + permutations),
    nTrain: train.length,
    nTest: test.length,
    permutations,
    flagged,
  };
}

export const shapesOf = (completions: readonly string[]): CompletionShape[] => completions.map(completionShape);
