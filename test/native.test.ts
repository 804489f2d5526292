// The native GEMM (native/gemm.cc) against tfjs wasm's own kernels on the same inputs:
// every matmul shape the models use, each fused kernel in value and gradient, then a model's
// cached generation on padded batches, its logits and a short training curve.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { initBackend, tf } from '../src/model/backend.js';
import { ADDON_PATH, installNativeKernels, uninstallNativeKernels } from '../src/model/nativeKernels.js';
import { LanguageModel } from '../src/model/model.js';
import { labTokenizer } from '../src/base/build.js';
import { drawRows, drawToken, generate, nextTokenLogprobs } from '../src/model/sample.js';
import { Rng } from '../src/util/rng.js';
import { reluGrad } from '../src/mnist/mlp.js';
import {
  attentionProbs,
  crossEntropy,
  fusedAttention,
  fusedAttentionFits,
  gatherRows,
  matmulTransposedB,
  rmsNorm,
  rope,
  swiGlu,
} from '../src/model/ops.js';
import { forwardHidden, lmHead, rotary } from '../src/model/llama.js';
import { packBatch } from '../src/model/batch.js';
import { chatToTokenRow, trainSft } from '../src/train/sft.js';
import type { LlamaConfig } from '../src/model/llama.js';

// CI builds the addon at `npm ci`; a missing one there must fail, not skip
const built = process.env.SUBLIMINAL_NATIVE !== '0' && (existsSync(ADDON_PATH) || Boolean(process.env.CI));

/** max |x - y| / (max |y| + 1e-6) */
const relErr = (x: Float32Array, y: Float32Array): number => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!));
    s = Math.max(s, Math.abs(y[i]!));
  }
  return d / (s + 1e-6);
};
/** The same computation on the wasm kernels alone and with the native GEMM. */
function bothPaths<T>(f: () => T): { wasm: T; native: T } {
  uninstallNativeKernels(tf);
  const wasm = f();
  expect(installNativeKernels(tf)).toBe(true);
  const native = f();
  return { wasm, native };
}

/** Tensors of the given shape filled with N(0, 1) draws from `noise`. */
const randomTensor =
  (noise: Rng) =>
  (shape: number[]): Tensor =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b) }, () => noise.normal()),
      shape,
    );

/** A 2-layer x 64 model over the lab's vocabulary, for comparing the two kernel paths. */
const smallConfig = (vocabSize: number): LlamaConfig => ({
  vocab_size: vocabSize,
  hidden_size: 64,
  intermediate_size: 176,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: 128,
  rope_theta: 10000,
  rms_norm_eps: 1e-5,
});

describe.skipIf(!built)('native GEMM vs tfjs wasm', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('batched matmul with every transpose, odd sizes and broadcast batches agrees to 1e-5 relative', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[3, 5], [5, 2], false, false],
      [[64, 40], [40, 96], false, false],
      [[129, 33], [129, 70], true, false],
      [[300, 65], [257, 65], false, true],
      [[1000, 17], [5, 1000], true, true],
      [[4, 9, 31], [4, 31, 33], false, false],
      [[6, 20, 8], [8, 24], false, false],
      [[2, 13, 7], [2, 19, 13], true, true],
      [[1024, 784], [784, 256], false, false],
      [[37, 300], [1459, 300], false, true],
      [[300, 37], [300, 1100], true, false], // n and k past one block
      [[8, 4, 1, 16], [8, 4, 65, 16], false, true],
      [[16, 2], [16, 40], true, false],
      [[3, 70], [70, 5], false, false], // fewer rows than a tile
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      const { wasm, native } = bothPaths(() => tf.matMul(a, b, ta, tb).dataSync() as Float32Array);
      expect(native.length).toBe(wasm.length);
      expect(relErr(native, wasm), `${sa} x ${sb} ${ta} ${tb}`).toBeLessThan(1e-5);
    }
  });

  it('fused matmul + bias + relu agrees with the composed wasm ops', () => {
    const a = tf.randomNormal([70, 33], 0, 1, 'float32', 3);
    const b = tf.randomNormal([33, 50], 0, 1, 'float32', 4);
    const bias = tf.randomNormal([50], 0, 1, 'float32', 5);
    uninstallNativeKernels(tf);
    const composed = tf.relu(tf.add(tf.matMul(a, b), bias)).dataSync() as Float32Array;
    installNativeKernels(tf);
    const fused = tf.fused.matMul({ a, b, bias, activation: 'relu' }).dataSync() as Float32Array;
    expect(relErr(fused, composed)).toBeLessThan(1e-5);
    const linear = tf.fused.matMul({ a, b, bias }).dataSync() as Float32Array;
    expect(linear.some((x) => x < 0)).toBe(true); // no relu applied when none was asked for
  });

  it(
    'each fused kernel (RMSNorm, SwiGLU, rotary, attention softmax, cross-entropy, row gather, a @ b^T) matches ' +
      'the composed ops in value and gradient',
    () => {
      const r = (shape: number[], seed: number): Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
      const keyMask = tf.tensor2d(
        Array.from({ length: 2 * 9 }, (_, i) => (i % 9 < (i < 9 ? 3 : 0) ? -1e9 : 0)),
        [2, 9],
      ); // row 0 left padded by 3
      const config = {
        vocab_size: 8,
        hidden_size: 64,
        intermediate_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        max_position_embeddings: 64,
        rope_theta: 10000,
        rms_norm_eps: 1e-5,
      };
      const targets = Int32Array.from({ length: 30 }, (_, i) => (i * 37) % 1459);
      const cases: [string, Tensor[], (...xs: Tensor[]) => Tensor][] = [
        ['rmsNorm', [r([37, 64], 1), r([64], 2)], (x, w) => rmsNorm(x!, w!, 1e-5)],
        ['swiGlu', [r([37, 176], 3), r([37, 176], 4)], (g, u) => swiGlu(g!, u!)],
        ['rope', [r([2, 4, 9, 16], 5)], (x) => rope(x!, rotary(config, 3, 9))],
        // 5 queries after 4 cached keys
        ['attentionProbs', [r([2, 4, 5, 9], 6)], (s) => attentionProbs(s!, 0.25, keyMask)],
        ['crossEntropy', [r([30, 1459], 7)], (l) => tf.reshape(crossEntropy(l as Tensor2D, targets), [1])],
        ['gatherRows', [r([50, 64], 8)], (x) => gatherRows(x as Tensor2D, Int32Array.from([3, 0, 49, 3, 3, 17]))],
        ['matmulTransposedB', [r([2, 4, 5, 16], 10), r([2, 4, 9, 16], 11)], (a, b) => matmulTransposedB(a!, b!)],
      ];
      for (const [name, inputs, f] of cases) {
        const { wasm, native } = bothPaths(() =>
          tf.tidy(() => {
            const y = f(...inputs);
            const weights = tf.randomNormal(y.shape, 0, 1, 'float32', 9); // a loss with a dense dy
            const grads = tf.grads((...xs: Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
            return { y: y.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
          }),
        );
        expect(relErr(native.y, wasm.y), `${name} value`).toBeLessThan(1e-5);
        native.grads.forEach((g, i) => expect(relErr(g, wasm.grads[i]!), `${name} gradient ${i}`).toBeLessThan(1e-4));
      }
    },
  );

  it("the fused causal attention gives the composed path's bits: hidden states and every gradient", () => {
    const tok = labTokenizer();
    // A's shape (heads of 16), C's (3 layers, heads of 12) and heads of 24 (two vectors); T 4k + 3 leaves a
    // remainder row
    const shapes: LlamaConfig[] = [
      smallConfig(tok.size),
      { ...smallConfig(tok.size), hidden_size: 48, intermediate_size: 128, num_hidden_layers: 3 },
      { ...smallConfig(tok.size), hidden_size: 96, num_hidden_layers: 1 },
    ];
    const rows = Array.from({ length: 12 }, (_, i) =>
      chatToTokenRow(
        tok,
        [
          { role: 'user', content: `Continue: ${i}, ${i * 7 + 3}, ${i * 11}.` },
          { role: 'assistant', content: Array.from({ length: 1 + (i % 6) }, (_, j) => i * 13 + j).join(', ') },
        ],
        128,
      ),
    );
    const batch = packBatch(rows, tok.padId);
    expect(batch.T % 4).not.toBe(0);
    for (const config of shapes) {
      const m = LanguageModel.create(config, tok, 5, { name: 't', family: 'T' });
      const step = (fused: boolean): Float32Array[] => {
        fusedAttention.enabled = fused;
        expect(fusedAttentionFits(batch.T, config.hidden_size / config.num_attention_heads)).toBe(fused);
        return tf.tidy(() => {
          const h = forwardHidden(m.params, config, batch.inputs, batch.B, batch.T);
          const { value, grads } = tf.variableGrads(
            () =>
              crossEntropy(
                lmHead(
                  m.params,
                  gatherRows(forwardHidden(m.params, config, batch.inputs, batch.B, batch.T), batch.lossPositions),
                ),
                batch.targets,
              ) as never,
          );
          return [h, value, ...Object.values(grads)].map((t) => t.dataSync() as Float32Array);
        });
      };
      let composed: Float32Array[], fused: Float32Array[];
      try {
        composed = step(false);
        fused = step(true);
      } finally {
        fusedAttention.enabled = true; // later tests run the default path even when a check above fails
        m.dispose();
      }
      expect(fused).toHaveLength(composed.length);
      fused.forEach((x, i) =>
        expect(Buffer.from(x.buffer).equals(Buffer.from(composed[i]!.buffer)), `tensor ${i}`).toBe(true),
      );
    }
  });

  it('draws the same tokens as drawToken, row by row, and skips finished rows', () => {
    const V = 1654;
    const B = 300;
    const noise = Rng.from(3, 'logits');
    const logits = Float32Array.from({ length: B * V }, () => noise.normal() * 4);
    for (const temperature of [0.7, 1, 1.3]) {
      // every third row finished: no draw, its Rng untouched
      const rngs = (seed: number): (Rng | undefined)[] =>
        Array.from({ length: B }, (_, b) => (b % 3 === 2 ? undefined : Rng.from(seed, 'row', b)));
      const { wasm, native } = bothPaths(() => {
        const r = rngs(9);
        const first = drawRows(logits, r, temperature, 1);
        return { first, second: drawRows(logits, r, temperature, 1) }; // each row's next number
      });
      for (const k of ['first', 'second'] as const) {
        expect(Array.from(native[k].ids)).toEqual(Array.from(wasm[k].ids));
        native[k].logprobs.forEach((lp, b) => expect(Math.abs(lp - wasm[k].logprobs[b]!)).toBeLessThan(1e-12));
      }
      const reference = rngs(9).map((r, b) => r && drawToken(logits.subarray(b * V, (b + 1) * V), temperature, 1, r));
      reference.forEach((d, b) => expect(native.first.ids[b]).toBe(d?.id ?? 0));
    }
  });

  it('adds same-shape tensors, transposes attention heads and passes ReLU gradients exactly as tfjs wasm does', () => {
    const t = randomTensor(Rng.from(5, 'elementwise'));
    const [a, b, heads] = [t([37, 64]), t([37, 64]), t([3, 7, 4, 16])];
    const row = t([64]); // a broadcast add stays on wasm
    const { wasm, native } = bothPaths(() =>
      [
        tf.add(a, b),
        tf.add(a, row),
        tf.transpose(heads, [0, 2, 1, 3]),
        tf.transpose(heads, [0, 1, 3, 2]),
        reluGrad(a, b), // the gradient a where b > 0
      ].map((x) => Array.from(x.dataSync())),
    );
    native.forEach((x, i) => expect(x, `case ${i}`).toEqual(wasm[i]));
    tf.dispose([a, b, heads, row]);
  });

  it('concatenates two tensors along any axis exactly as tfjs wasm does', () => {
    const t = randomTensor(Rng.from(4, 'concat'));
    const cases: [number[], number[], number][] = [
      [[3, 4, 5, 16], [3, 4, 1, 16], 2], // a KV cache growing by one position
      [[2, 7], [5, 7], 0],
      [[2, 3, 4], [2, 3, 6], -1],
      [[1, 9], [1, 2], 1],
    ];
    for (const [sa, sb, axis] of cases) {
      const a = t(sa);
      const b = t(sb);
      const { wasm, native } = bothPaths(() => tf.concat([a, b], axis).dataSync() as Float32Array);
      expect(Array.from(native), `${sa} + ${sb} on axis ${axis}`).toEqual(Array.from(wasm));
      tf.dispose([a, b]);
    }
  });

  it('padded batches generate the same tokens from the KV cache on both paths', () => {
    const tok = labTokenizer();
    const config = smallConfig(tok.size);
    const m = LanguageModel.create(config, tok, 5, { name: 't', family: 'T' });
    const prompts = ['Go on: 1, 2.', 'Continue the sequence: 3, 7, 12, 18, 25.', 'Name an animal.'].map((content) =>
      tok.encodeChat([{ role: 'user', content }]),
    );
    for (const temperature of [0, 1]) {
      const { wasm, native } = bothPaths(() => generate(m, prompts, { temperature, topP: 1, maxTokens: 8, seed: 1 }));
      native.forEach((s, i) => {
        expect(s.ids).toEqual(wasm[i]!.ids);
        s.logprobs.forEach((lp, j) => expect(Math.abs(lp - wasm[i]!.logprobs[j]!)).toBeLessThan(1e-4));
      });
    }
    m.dispose();
  });

  it("a model's logits agree to 1e-4 and a short training curve matches within noise", () => {
    const tok = labTokenizer();
    const config = smallConfig(tok.size);
    const prompt = tok.encodeChat([{ role: 'user', content: 'Continue the sequence: 3, 7, 12.' }]);
    const rows = Array.from({ length: 32 }, (_, i) =>
      chatToTokenRow(
        tok,
        [
          { role: 'user', content: `Continue: ${i}, ${i + 3}.` },
          { role: 'assistant', content: `${i + 6}, ${i + 9}, ${i + 12}` },
        ],
        128,
      ),
    );
    const { wasm, native } = bothPaths(() => {
      const m = LanguageModel.create(config, tok, 11, { name: 't', family: 'T' });
      const before = nextTokenLogprobs(m, [prompt])[0]!;
      const losses = trainSft(m, rows, { epochs: 3, lr: 3e-3, batchSize: 8, warmupSteps: 0, seed: 2 }).losses;
      m.dispose();
      return { before, losses };
    });
    expect(relErr(native.before, wasm.before)).toBeLessThan(1e-4);
    expect(native.losses).toHaveLength(wasm.losses.length);
    native.losses.forEach((l, i) => expect(Math.abs(l - wasm.losses[i]!) / wasm.losses[i]!).toBeLessThan(1e-3));
    expect(native.losses.at(-1)!).toBeLessThan(native.losses[0]!); // and it learns
  });
});
