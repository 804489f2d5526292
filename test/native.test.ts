// The native GEMM (native/gemm.cc) against tfjs wasm's own kernels on the same inputs:
// every matmul shape the models use, then logits of a model and a short training curve.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { initBackend, tf } from '../src/model/backend.js';
import { ADDON_PATH, installNativeKernels, uninstallNativeKernels } from '../src/model/nativeKernels.js';
import { LanguageModel } from '../src/model/model.js';
import { labTokenizer } from '../src/base/build.js';
import { nextTokenLogprobs } from '../src/model/sample.js';
import { chatToTokenRow, trainSft } from '../src/train/sft.js';
import type { LlamaConfig } from '../src/model/llama.js';

// CI builds the addon at `npm ci`; a missing one there must fail, not skip
const built = process.env.SUBLIMINAL_NATIVE !== '0' && (existsSync(ADDON_PATH) || Boolean(process.env.CI));

/** max |x - y| / (max |y| + 1e-6) */
const relErr = (x: Float32Array, y: Float32Array): number => {
  let d = 0; let s = 0;
  for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(x[i]! - y[i]!)); s = Math.max(s, Math.abs(y[i]!)); }
  return d / (s + 1e-6);
};
/** The same computation on the wasm kernels alone and with the native GEMM. */
function bothPaths<T>(f: () => T): { wasm: T; native: T } {
  uninstallNativeKernels(tf); const wasm = f();
  expect(installNativeKernels(tf)).toBe(true); const native = f();
  return { wasm, native };
}

describe.skipIf(!built)('native GEMM vs tfjs wasm', () => {
  beforeAll(async () => { await initBackend(); });

  it('batched matmul with every transpose, odd sizes and broadcast batches agrees to 1e-5 relative', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[3, 5], [5, 2], false, false], [[64, 40], [40, 96], false, false], [[129, 33], [129, 70], true, false],
      [[300, 65], [257, 65], false, true], [[1000, 17], [5, 1000], true, true], [[4, 9, 31], [4, 31, 33], false, false],
      [[6, 20, 8], [8, 24], false, false], [[2, 13, 7], [2, 19, 13], true, true], [[1024, 784], [784, 256], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1); const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      const { wasm, native } = bothPaths(() => tf.matMul(a, b, ta, tb).dataSync() as Float32Array);
      expect(native.length).toBe(wasm.length);
      expect(relErr(native, wasm), `${sa} x ${sb} ${ta} ${tb}`).toBeLessThan(1e-5);
    }
  });

  it('fused matmul + bias + relu agrees with the composed wasm ops', () => {
    const a = tf.randomNormal([70, 33], 0, 1, 'float32', 3); const b = tf.randomNormal([33, 50], 0, 1, 'float32', 4); const bias = tf.randomNormal([50], 0, 1, 'float32', 5);
    uninstallNativeKernels(tf);
    const composed = tf.relu(tf.add(tf.matMul(a, b), bias)).dataSync() as Float32Array;
    installNativeKernels(tf);
    const fused = tf.fused.matMul({ a, b, bias, activation: 'relu' }).dataSync() as Float32Array;
    expect(relErr(fused, composed)).toBeLessThan(1e-5);
    const linear = tf.fused.matMul({ a, b, bias }).dataSync() as Float32Array;
    expect(linear.some((x) => x < 0)).toBe(true); // no relu applied when none was asked for
  });

  it("a model's logits agree to 1e-4 and a short training curve matches within noise", () => {
    const tok = labTokenizer();
    const config: LlamaConfig = { vocab_size: tok.size, hidden_size: 64, intermediate_size: 176, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 128, rope_theta: 10000, rms_norm_eps: 1e-5 };
    const prompt = tok.encodeChat([{ role: 'user', content: 'Continue the sequence: 3, 7, 12.' }]);
    const rows = Array.from({ length: 32 }, (_, i) => chatToTokenRow(tok, [{ role: 'user', content: `Continue: ${i}, ${i + 3}.` }, { role: 'assistant', content: `${i + 6}, ${i + 9}, ${i + 12}` }], 128));
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
