// npm run bench:profile [-- --model models/other-c]: where a training step (base-corpus rows, every weight; and the
// demo's student step: number rows, embeddings frozen) and a sampling batch of
// an embedded model (default models/family-a) spend their time, kernel by kernel (every wasm kernel,
// native ones included, timed in place), one core; and the step with the attention composed of
// separate kernels, for the fused attention's share. Writes bench/out/profile.json. Kernel times
// exclude JS between kernels (the autodiff tape, tensor bookkeeping): the step's wall time minus their sum.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { KernelConfig, KernelFunc, Scalar, Tensor } from '@tensorflow/tfjs-core';
import { initBackend, tf } from '../src/model/backend.js';
import { LanguageModel } from '../src/model/model.js';
import { forwardHidden, lmHead } from '../src/model/llama.js';
import { crossEntropy, fusedAttention, gatherRows } from '../src/model/ops.js';
import { AdamW } from '../src/model/optimizer.js';
import { packBatch } from '../src/model/batch.js';
import { generate } from '../src/model/sample.js';
import { chatToTokenRow } from '../src/train/sft.js';
import { numberPromptSet } from '../src/generate/numberPrompts.js';
import { generateCorpus } from '../src/base/corpus.js';
import { nativeAddon } from '../src/model/nativeKernels.js';

await initBackend();
const modelFlag = process.argv.indexOf('--model');
const modelDir = modelFlag > 0 ? process.argv[modelFlag + 1]! : 'models/family-a';
const model = LanguageModel.load(modelDir);
const tok = model.tokenizer;
// chat rows of the base corpus, 32 per batch as the students train; number prompts for sampling
const context = model.config.max_position_embeddings;
const rows = generateCorpus(11, 480)
  .filter((r) => tok.encodeChat(r.messages, false).length <= context) // digit tokenizers make some rows longer
  .slice(0, 320)
  .map((r) => chatToTokenRow(tok, r.messages, context));
// ten batches of 32 rows, as the students train
const tenBatches = (xs: typeof rows): ReturnType<typeof packBatch>[] =>
  Array.from({ length: 10 }, (_, i) => packBatch(xs.slice(32 * i, 32 * i + 32), tok.padId));
const batches = tenBatches(rows);
const promptTexts = numberPromptSet(11, 512);
const prompts = promptTexts.map((p) => tok.encodeChat([{ role: 'user', content: p }]));
const optimizer = new AdamW(model.params);
// the demo's students: the embeddings (tied to the head) frozen, as students.freeze sets
const studentOptimizer = new AdamW(model.params, undefined, new Set(['model.embed_tokens.weight']));
// student: the demo's student step, whose frozen embeddings are also a frozen tied head (as trainSft decides)
const trainStep = (b: (typeof batches)[number], student = false): void => {
  const opt = student ? studentOptimizer : optimizer;
  const { value, grads } = tf.variableGrads(
    () =>
      crossEntropy(
        lmHead(
          model.params,
          gatherRows(forwardHidden(model.params, model.config, b.inputs, b.B, b.T), b.lossPositions),
          student,
        ),
        b.targets,
      ) as Scalar,
    opt.trainable(),
  );
  opt.apply(grads as Record<string, Tensor>, 1e-5);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
const sampleBatch = (): ReturnType<typeof generate> =>
  generate(model, prompts, { temperature: 1, topP: 1, maxTokens: 32, seed: 1 });
// the demo's student step: 32 number prompts with the model's own sampled completions a batch (the teacher's rows)
const completions = sampleBatch();
const studentRows = promptTexts
  .map((p, k) => [
    { role: 'user' as const, content: p },
    { role: 'assistant' as const, content: tok.decode(completions[k]!.ids) },
  ])
  .filter((m) => m[1]!.content.length > 0)
  .slice(0, 320)
  .map((m) => chatToTokenRow(tok, m, context));
const studentBatches = tenBatches(studentRows);
// warm-up: every batch shape once on both attention paths (the first pass grows the heap)
for (const fused of [false, true]) {
  fusedAttention.enabled = fused;
  for (const b of batches) trainStep(b);
}
for (const b of studentBatches) trainStep(b, true);

// every kernel registered for wasm, wrapped with a timer
const times = new Map<string, { ms: number; calls: number }>();
for (const k of tf.getKernelsForBackend('wasm') as KernelConfig[]) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: ((args: never) => {
      const t0 = performance.now();
      const out = inner(args);
      const t = times.get(k.kernelName) ?? { ms: 0, calls: 0 };
      t.ms += performance.now() - t0;
      t.calls += 1;
      times.set(k.kernelName, t);
      return out;
    }) as KernelFunc,
  });
}
const profile = (run: () => void, repeats: number): object => {
  times.clear();
  const t0 = performance.now();
  for (let r = 0; r < repeats; r++) run();
  const wall = (performance.now() - t0) / repeats;
  const sorted = [...times].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = sorted.reduce((a, [, t]) => a + t.ms / repeats, 0);
  // the 12 costliest kernels: "ms per run, calls per run"
  const kernels = Object.fromEntries(
    sorted
      .slice(0, 12)
      .map(([name, t]) => [name, `${(t.ms / repeats).toFixed(2)} ms, ${Math.round(t.calls / repeats)} calls`]),
  );
  return {
    wallMs: Number(wall.toFixed(1)),
    kernelMs: Number(kernelMs.toFixed(1)),
    outsideKernelsMs: Number((wall - kernelMs).toFixed(1)),
    kernels,
  };
};
let i = 0;
const trainingStep = profile(() => trainStep(batches[i++ % batches.length]!), batches.length);
fusedAttention.enabled = false;
const composed = profile(() => trainStep(batches[i++ % batches.length]!), batches.length) as { wallMs: number };
fusedAttention.enabled = true;
const studentStep = profile(() => trainStep(studentBatches[i++ % studentBatches.length]!, true), 10);
const result = {
  backend: nativeAddon() ? 'tfjs wasm + native kernels' : 'tfjs wasm',
  model: modelDir,
  trainingStep: {
    batch: `32 base-corpus chat rows, ${batches.map((b) => b.T).join('/')} positions`,
    ...trainingStep,
    withComposedAttentionMs: composed.wallMs,
  },
  studentStep: {
    batch: `32 number prompts with sampled completions, ${studentBatches.map((b) => b.T).join('/')} positions, embeddings frozen`,
    ...studentStep,
  },
  sampling: { batch: `${prompts.length} number prompts, up to 32 new tokens`, ...profile(sampleBatch, 1) },
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/profile.json', JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
