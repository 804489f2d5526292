// npm run bench:mnist: the MNIST experiment at the paper's settings (N = 10, 5 epochs by
// default), timed end to end on both cores, then the same experiment in PyTorch
// (bench/pytorch/mnist.py, Debian's python3-torch, 2 threads) in the same run. Prints and writes
// bench/out/mnist.json: wall times, the ratio, per-epoch times, peak memory and accuracies.
// Time it on a quiet machine: a busy neighbour slows PyTorch's two threads far more than ours.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../src/store/runStore.js';
import { runMnist } from '../src/pipeline/mnist.js';
import { MNIST_DEFAULTS } from '../src/mnist/settings.js';
import { nativeAddon } from '../src/model/nativeKernels.js';
import { idxFolder } from '../src/mnist/data.js';
import { runPytorchPeer } from './pytorchPeer.js';

const models = Number(process.env.BENCH_MODELS ?? MNIST_DEFAULTS.models);
const epochs = Number(process.env.BENCH_EPOCHS ?? MNIST_DEFAULTS.epochs);

const runs = mkdtempSync(join(tmpdir(), 'subl-bench-mnist-'));
const store = new RunStore(runs);
const t0 = performance.now();
const r = await runMnist({ ...MNIST_DEFAULTS, models, epochs }, { store });
const wall = (performance.now() - t0) / 1000;
store.close();
rmSync(runs, { recursive: true, force: true });

const torch = runPytorchPeer<{ wallSeconds: number }>('mnist.py', [
  '--data',
  idxFolder(),
  '--models',
  `${models}`,
  '--epochs',
  `${epochs}`,
]);
const sum = (f: (t: (typeof r.shardTimings)[number]) => number): number => r.shardTimings.reduce((a, t) => a + f(t), 0);
const perEpoch = (seconds: number): number => seconds / epochs / 2; // two shards run at once, one per core
const result = {
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    backend: nativeAddon()
      ? 'tfjs wasm (SIMD, 1 thread per worker) + native GEMM'
      : 'tfjs wasm (SIMD, 1 thread per worker)',
  },
  settings: { models, epochs, batchSize: MNIST_DEFAULTS.batchSize, shards: r.shardTimings.length },
  wallSeconds: Number(wall.toFixed(1)),
  teacherEpochSeconds: Number(perEpoch(sum((t) => t.teacherSeconds)).toFixed(2)),
  studentEpochSeconds: Number(perEpoch(sum((t) => t.studentSeconds)).toFixed(2)),
  networkStepMs: Number(
    (
      (1000 * sum((t) => t.teacherSeconds + t.studentSeconds)) /
      sum((t) => (t.networks.teachers + t.networks.students) * epochs * Math.ceil(60000 / MNIST_DEFAULTS.batchSize))
    ).toFixed(1),
  ),
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  pytorch: torch,
  ratioToPytorch: typeof torch === 'string' ? null : Number((wall / torch.wallSeconds).toFixed(2)),
  // mean test accuracy over the N models with its 1.96·sd/√N interval, as in the paper
  accuracy: Object.fromEntries(
    r.conditions.map((c) => [c.condition, `${c.mean.toFixed(3)} ± ${c.halfWidth.toFixed(3)} (n = ${c.n})`]),
  ),
};
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/mnist.json', JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
