// npm run bench: throughput of the embedded model on this machine (one core, tfjs wasm).
// Prints and writes bench/out/lab.json: training tokens/s, sampling tokens/s and completions/s,
// scoring tokens/s, each the median of several repeats; a 1024^3 matmul and the 0.8M-parameter
// GPT training step of issue 9 beside one core's measured fp32 peak and beside PyTorch's, measured
// in the same run (bench/pytorch/lab.py: the same architecture, Debian's python3-torch, 2 threads);
// peak resident memory.
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { initBackend } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { generate, sequenceLogprobs } from '../src/model/sample.js';
import { chatToTokenRow, trainSft } from '../src/train/sft.js';
import { numberPromptSet } from '../src/generate/numberPrompts.js';
import { generateCorpus } from '../src/base/corpus.js';
import { countParameters, forwardHidden, initParams, lmHead, type LlamaConfig } from '../src/model/llama.js';
import { crossEntropy } from '../src/model/ops.js';
import { AdamW } from '../src/model/optimizer.js';
import { Rng } from '../src/util/rng.js';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../src/model/backend.js';
import { nativeAddon } from '../src/model/nativeKernels.js';
import { runPytorchPeer } from './pytorchPeer.js';

/** Issue 9's tuned tfjs wasm (no native kernels) for the same GPT step. */
const TFJS_WASM_GPT_STEP_MS = 1150;

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = (fn: () => number): { seconds: number; units: number } => {
  const t0 = performance.now();
  const units = fn();
  return { seconds: (performance.now() - t0) / 1000, units };
};

await initBackend();
const model = LanguageModel.load('models/family-a');
const tok = model.tokenizer;
const rows = generateCorpus(11, 32 * 20).map((r) => chatToTokenRow(tok, r.messages, 128));
const prompts = numberPromptSet(11, 1024).map((p) => tok.encodeChat([{ role: 'user', content: p }]));

// warm-up (wasm compilation, kernel caches)
trainSft(model, rows.slice(0, 64), { epochs: 1, lr: 1e-5, batchSize: 32, warmupSteps: 0, seed: 0 });
generate(model, prompts.slice(0, 64), { temperature: 1, topP: 1, maxTokens: 32, seed: 0 });

const train: number[] = [];
const sample: number[] = [];
const completions: number[] = [];
const score: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  const t = timed(() => trainSft(model, rows, { epochs: 1, lr: 1e-5, batchSize: 32, warmupSteps: 0, seed: r }).tokens);
  train.push(t.units / t.seconds);
  let newTokens = 0;
  const g = timed(() => {
    newTokens = generate(model, prompts, { temperature: 1, topP: 1, maxTokens: 32, seed: r }).reduce(
      (a, s) => a + s.ids.length + 1,
      0,
    );
    return prompts.length;
  });
  sample.push(newTokens / g.seconds);
  completions.push(g.units / g.seconds);
  const seqs = rows.map((x) => x.ids);
  const s = timed(() => {
    sequenceLogprobs(model, seqs);
    return seqs.reduce((a, x) => a + x.length, 0);
  });
  score.push(s.units / s.seconds);
}

// 1024^3 fp32 matmul through tfjs (the native GEMM when it is built), one core
const gemm: number[] = [];
{
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.matMul(a, b).dispose();
  // wasm kernels run synchronously, so the product is done when matMul returns; reading its 4 MB back is not GEMM time
  for (let r = 0; r < Math.max(5, REPEATS); r++) {
    const t = timed(() => {
      tf.matMul(a, b).dispose();
      return 2 * 1024 ** 3;
    });
    gemm.push(t.units / t.seconds / 1e9);
  }
  a.dispose();
  b.dispose();
}

// The 0.8M-parameter GPT's training step in our architecture (SwiGLU width 344 keeps the MLP's
// parameter count; loss on every position, AdamW), one core
const gptConfig: LlamaConfig = {
  vocab_size: 64,
  hidden_size: 128,
  intermediate_size: 344,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  max_position_embeddings: 64,
  rope_theta: 10000,
  rms_norm_eps: 1e-5,
};
const gptStep: number[] = [];
{
  const params = initParams(gptConfig, new Rng(1));
  const opt = new AdamW(params);
  const rng = new Rng(2);
  const B = 32;
  const T = 64;
  const ids = Int32Array.from({ length: B * T }, () => rng.int(0, 63));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(0, 63));
  const step = (): number => {
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(lmHead(params, forwardHidden(params, gptConfig, ids, B, T)), targets) as Scalar,
    );
    opt.apply(grads as Record<string, Tensor>, 1e-3);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    return 1;
  };
  for (let r = 0; r < 3; r++) step();
  for (let r = 0; r < 5 * REPEATS; r++) gptStep.push(timed(step).seconds * 1000);
  opt.dispose();
  for (const p of params.values()) p.dispose();
}

// One core's fp32 peak, measured here (native/peak.cc: multiply-adds in registers); null without the addon
const peak: number[] = [];
for (let r = 0; r < 5; r++) {
  const gflops = nativeAddon()?.peakGflops(2e7);
  if (gflops !== undefined) peak.push(gflops);
}
const peakOneCore = peak.length ? median(peak) : null;
const ofPeak = (gflops: number): number | null => (peakOneCore ? Number((gflops / peakOneCore).toFixed(2)) : null);
// the GPT step's flops: 6 per parameter per token (forward and backward), plus attention's QK^T and PV
const gptStepFlops =
  6 * countParameters(gptConfig) * 32 * 64 + 3 * 4 * gptConfig.num_hidden_layers * 32 * 64 * 64 * gptConfig.hidden_size;

const torch = runPytorchPeer<{ gemm1024Gflops: number; gptStepMs: number }>('lab.py');
const peer = typeof torch === 'string' ? undefined : torch; // a string says why the peer did not run
const ratio = (ours: number, theirs: number | undefined): number | null =>
  theirs === undefined ? null : Number((ours / theirs).toFixed(2));
const result = {
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    backend: nativeAddon() ? 'tfjs wasm (SIMD, 1 thread) + native kernels' : 'tfjs wasm (SIMD, 1 thread)',
  },
  peakGflopsOneCore: peakOneCore === null ? null : Number(peakOneCore.toFixed(1)),
  gemm1024: {
    gflopsOneCore: Number(median(gemm).toFixed(1)),
    ofPeak: ofPeak(median(gemm)),
    pytorchTwoThreads: peer?.gemm1024Gflops ?? torch,
    twoCoresVsPytorch: ratio(2 * median(gemm), peer?.gemm1024Gflops),
  },
  model: {
    parameters: countParameters(model.config),
    hidden: model.config.hidden_size,
    layers: model.config.num_hidden_layers,
    vocab: model.config.vocab_size,
  },
  repeats: REPEATS,
  trainingTokensPerSecond: Math.round(median(train)),
  samplingNewTokensPerSecond: Math.round(median(sample)),
  samplingCompletionsPerSecond: Math.round(median(completions)),
  scoringTokensPerSecond: Math.round(median(score)),
  gptStep: {
    parameters: countParameters(gptConfig),
    msOneCore: Number(median(gptStep).toFixed(1)),
    gflopsOneCore: Number((gptStepFlops / median(gptStep) / 1e6).toFixed(1)),
    ofPeak: ofPeak(gptStepFlops / median(gptStep) / 1e6),
    pytorchTwoThreadsMs: peer?.gptStepMs ?? torch,
    tfjsWasmTunedMs: TFJS_WASM_GPT_STEP_MS,
    oneCoreVsPytorch: ratio(median(gptStep), peer?.gptStepMs),
    // the pipeline trains one model per core: two steps per step time
    twoCoresThroughputVsPytorch: ratio(median(gptStep) / 2, peer?.gptStepMs),
  },
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  notes: 'per core; the pipeline runs one model per worker thread on each core',
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/lab.json', JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
