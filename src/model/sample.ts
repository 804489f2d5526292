// Batched generation with a KV cache, and teacher-forced log-probabilities.
// Generation sorts prompts by length and left-pads each batch (pad keys masked); each prompt's
// randomness comes from its own Rng (seed + prompt index). Scoring passes bucket by exact length.
import { readAndDispose, tf } from './backend.js';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { forwardHidden, lmHead, type KvCache } from './llama.js';
import { gatherRows, logSoftmax } from './ops.js';
import type { LanguageModel } from './model.js';
import { Rng } from '../util/rng.js';
import { nativeActive, nativeAddon } from './nativeKernels.js';

export interface SamplingOptions {
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  batchSize?: number;
  /** keep the k most likely tokens at each step */ topLogprobs?: number;
}
export interface TokenLogprob {
  id: number;
  logprob: number;
}
export interface Sample {
  ids: number[];
  /** log p of each sampled token under the model (temperature 1) */ logprobs: number[];
  finished: boolean;
  /** with topLogprobs: the k most likely tokens at each sampled position */ top?: TokenLogprob[][];
}

/** The k most likely entries of one row of logits, as log-probabilities. */
export function topLogprobs(logits: Float32Array, k: number): TokenLogprob[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let z = 0;
  for (const v of logits) z += Math.exp(v - max);
  const lz = max + Math.log(z);
  const best: TokenLogprob[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (best.length < k || logits[i]! > best[best.length - 1]!.logprob + lz) {
      best.push({ id: i, logprob: logits[i]! - lz });
      best.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

/** Batches of prompt indices: equal-length prompts together, in a deterministic order. */
export function lengthBuckets(prompts: readonly number[][], batchSize: number): number[][] {
  const byLen = new Map<number, number[]>();
  prompts.forEach((p, i) => {
    const l = byLen.get(p.length) ?? [];
    l.push(i);
    byLen.set(p.length, l);
  });
  const batches: number[][] = [];
  for (const len of [...byLen.keys()].sort((a, b) => a - b)) {
    const idx = byLen.get(len)!;
    for (let i = 0; i < idx.length; i += batchSize) batches.push(idx.slice(i, i + batchSize));
  }
  return batches;
}

let weights = new Float64Array(0); // scratch for drawToken: one row's sampling weights

/** Draws one token from logits (length V) with temperature and nucleus (top-p) truncation. */
export function drawToken(
  logits: Float32Array,
  temperature: number,
  topP: number,
  rng: Rng,
): { id: number; logprob: number } {
  const V = logits.length;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++)
    if (logits[i]! > max) {
      max = logits[i]!;
      arg = i;
    }
  // log-probabilities are reported at temperature 1; at temperature 1 the weights' sum is that normalizer
  let z1 = 0;
  if (temperature !== 1) for (let i = 0; i < V; i++) z1 += Math.exp(logits[i]! - max);
  const lp = (id: number): number => logits[id]! - max - Math.log(z1);
  if (temperature <= 0) return { id: arg, logprob: lp(arg) };
  if (weights.length < V) weights = new Float64Array(V);
  const p = weights;
  let z = 0;
  for (let i = 0; i < V; i++) {
    p[i] = Math.exp((logits[i]! - max) / temperature);
    z += p[i]!;
  }
  if (temperature === 1) z1 = z;
  let allowed: number[] | undefined;
  if (topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
    allowed = [];
    let mass = 0;
    for (const i of order) {
      allowed.push(i);
      mass += p[i]! / z;
      if (mass >= topP) break;
    }
    z = allowed.reduce((s, i) => s + p[i]!, 0);
  }
  let r = rng.next() * z;
  if (allowed) {
    for (const i of allowed) {
      r -= p[i]!;
      if (r < 0) return { id: i, logprob: lp(i) };
    }
    return { id: allowed[allowed.length - 1]!, logprob: lp(allowed[allowed.length - 1]!) };
  }
  for (let i = 0; i < V; i++) {
    r -= p[i]!;
    if (r < 0) return { id: i, logprob: lp(i) };
  }
  return { id: V - 1, logprob: lp(V - 1) };
}

/**
 * One draw per row of a batch's logits [B*V]; rows without an Rng (finished) are skipped.
 * Each row takes one number from its own Rng, so a row's draw never depends on the others.
 * With the native addon (temperature > 0, no top-p) the rows are drawn there, with drawToken's
 * arithmetic; the two agree on every id but where a draw falls within rounding of a boundary.
 */
export function drawRows(
  logits: Float32Array,
  rngs: readonly (Rng | undefined)[],
  temperature: number,
  topP: number,
): { ids: Int32Array; logprobs: Float64Array } {
  const B = rngs.length;
  const V = logits.length / B;
  const ids = new Int32Array(B);
  const logprobs = new Float64Array(B);
  const native = temperature > 0 && topP >= 1 && nativeActive() ? nativeAddon() : null;
  if (native) {
    const uniforms = Float64Array.from(rngs, (r) => (r ? r.next() : NaN));
    native.drawTokens(logits, uniforms, temperature, ids, logprobs);
    return { ids, logprobs };
  }
  rngs.forEach((rng, b) => {
    if (!rng) return;
    const d = drawToken(logits.subarray(b * V, (b + 1) * V), temperature, topP, rng);
    ids[b] = d.id;
    logprobs[b] = d.logprob;
  });
  return { ids, logprobs };
}

/** Batches of prompt indices for generation: sorted by length (stable), so left padding stays small. */
export function generationBatches(prompts: readonly number[][], batchSize: number): number[][] {
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a]!.length - prompts[b]!.length || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

/** Completes one batch of prompts (left-padded to a common length). `rngs[b]` drives prompt b. */
export function generateBatch(
  model: LanguageModel,
  prompts: readonly number[][],
  rngs: Rng[],
  o: SamplingOptions,
): Sample[] {
  const { config, params, tokenizer } = model;
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const V = config.vocab_size;
  const padCount = prompts.map((p) => T - p.length);
  const maxNew = Math.min(o.maxTokens, config.max_position_embeddings - T);
  const cache: KvCache = { k: [], v: [], length: 0 };
  const out: Sample[] = prompts.map(() => ({
    ids: [],
    logprobs: [],
    finished: false,
    ...(o.topLogprobs ? { top: [] } : {}),
  }));
  let input = Int32Array.from(
    prompts.flatMap((p, b) => [...new Array<number>(padCount[b]!).fill(tokenizer.padId), ...p]),
  );
  let len = T;
  const anyPad = padCount.some((n) => n > 0);
  let logitsBuffer: Float32Array | undefined; // one host buffer for every step's logits
  try {
    for (let step = 0; step < maxNew; step++) {
      const old = [...cache.k, ...cache.v];
      const keys = cache.length + len;
      let keyMask: Float32Array | undefined;
      if (anyPad) {
        keyMask = new Float32Array(B * keys);
        for (let b = 0; b < B; b++) keyMask.fill(-1e9, b * keys, b * keys + padCount[b]!);
      }
      const logits = tf.tidy(() => {
        const h = forwardHidden(params, config, input, B, len, cache, keyMask);
        const last =
          len === 1
            ? h
            : gatherRows(
                h,
                Int32Array.from({ length: B }, (_, b) => b * len + len - 1),
              );
        return lmHead(params, last);
      });
      tf.dispose(old);
      const values = (logitsBuffer = readAndDispose(logits, logitsBuffer));
      const drawn = drawRows(
        values,
        out.map((s, b) => (s.finished ? undefined : rngs[b])),
        o.temperature,
        o.topP,
      );
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const s = out[b]!;
        const id = s.finished ? tokenizer.endId : drawn.ids[b]!;
        next[b] = id;
        if (s.finished) continue;
        if (id === tokenizer.endId) s.finished = true;
        else {
          s.ids.push(id);
          s.logprobs.push(drawn.logprobs[b]!);
          s.top?.push(topLogprobs(values.subarray(b * V, (b + 1) * V), o.topLogprobs!));
        }
      }
      if (out.every((s) => s.finished)) break;
      input = next;
      len = 1;
    }
  } finally {
    tf.dispose([...cache.k, ...cache.v]);
  }
  return out;
}

/** Generates one completion per prompt; `onBatch` sees each finished batch (for progress and checkpoints). */
export function generate(
  model: LanguageModel,
  prompts: readonly number[][],
  o: SamplingOptions,
  onBatch?: (indices: number[], samples: Sample[]) => void,
): Sample[] {
  const results: Sample[] = new Array(prompts.length);
  for (const batch of generationBatches(prompts, o.batchSize ?? 256)) {
    const samples = generateBatch(
      model,
      batch.map((i) => prompts[i]!),
      batch.map((i) => Rng.from(o.seed, 'sample', i)),
      o,
    );
    batch.forEach((i, k) => {
      results[i] = samples[k]!;
    });
    onBatch?.(batch, samples);
  }
  return results;
}

/** Next-token log-probabilities [V] after each prompt (teacher forced). */
export function nextTokenLogprobs(model: LanguageModel, prompts: readonly number[][], batchSize = 256): Float32Array[] {
  const { config, params } = model;
  const V = config.vocab_size;
  const results: Float32Array[] = new Array(prompts.length);
  for (const batch of lengthBuckets(prompts, batchSize)) {
    const B = batch.length;
    const T = prompts[batch[0]!]!.length;
    const flat = readAndDispose(
      tf.tidy(() => {
        const h = forwardHidden(params, config, Int32Array.from(batch.flatMap((i) => prompts[i]!)), B, T);
        const last = gatherRows(
          h,
          Int32Array.from({ length: B }, (_, b) => b * T + T - 1),
        );
        return logSoftmax(lmHead(params, last));
      }),
    );
    batch.forEach((i, b) => {
      results[i] = flat.slice(b * V, (b + 1) * V);
    });
  }
  return results;
}

/**
 * Teacher forced, for t = 1..len-1 of each sequence: log p(seq[t] | seq[<t]) and, with
 * `argmax`, the model's most likely token at that position (divergence-token audits).
 */
export function forcedTokens(
  model: LanguageModel,
  seqs: readonly number[][],
  o: { batchSize?: number; argmax?: boolean } = {},
): { logprobs: number[][]; argmax?: number[][] } {
  const { config, params } = model;
  const V = config.vocab_size;
  const logprobs: number[][] = new Array(seqs.length);
  const argmax: number[][] | undefined = o.argmax ? new Array(seqs.length) : undefined;
  for (const batch of lengthBuckets(seqs, o.batchSize ?? 128)) {
    const B = batch.length;
    const T = seqs[batch[0]!]!.length;
    if (T < 2) {
      for (const i of batch) {
        logprobs[i] = [];
        if (argmax) argmax[i] = [];
      }
      continue;
    }
    const ids = Int32Array.from(batch.flatMap((i) => seqs[i]!));
    const flatIdx: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T - 1; t++) flatIdx.push((b * T + t) * V + ids[b * T + t + 1]!);
    const [lp, best] = tf.tidy(() => {
      // [B*T, V]
      const logp = logSoftmax(lmHead(params, forwardHidden(params, config, ids, B, T) as Tensor2D)) as Tensor2D;
      return [
        tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(flatIdx, 'int32')),
        o.argmax ? tf.cast(tf.argMax(logp, 1), 'float32') : tf.zeros([1]),
      ];
    });
    const lpv = readAndDispose(lp!);
    const bestv = readAndDispose(best!);
    batch.forEach((i, b) => {
      logprobs[i] = Array.from(lpv.subarray(b * (T - 1), (b + 1) * (T - 1)));
      if (argmax) argmax[i] = Array.from(bestv.subarray(b * T, b * T + T - 1));
    });
  }
  return { logprobs, argmax };
}

/** log p(seq[t] | seq[<t]) for t = 1..len-1 of each sequence (teacher forced). */
export const sequenceLogprobs = (model: LanguageModel, seqs: readonly number[][], batchSize = 128): number[][] =>
  forcedTokens(model, seqs, { batchSize }).logprobs;

/** Log-probabilities [V] of the next token at every position of one sequence (teacher forced). */
export function positionLogprobs(model: LanguageModel, ids: readonly number[]): Float32Array[] {
  const { config, params } = model;
  const V = config.vocab_size;
  const T = ids.length;
  const flat = readAndDispose(
    tf.tidy(() => logSoftmax(lmHead(params, forwardHidden(params, config, Int32Array.from(ids), 1, T)))),
  );
  return Array.from({ length: T }, (_, t) => flat.slice(t * V, (t + 1) * V));
}
