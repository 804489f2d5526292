// `subliminal mnist`: the auxiliary-logit experiment with its table, JSON, chart and lineage.
import type { Command, Option } from 'commander';
import { RunStore } from '../store/runStore.js';
import type { MnistOptions } from '../pipeline/mnist.js';
import { MNIST_DEFAULTS } from '../mnist/settings.js';
import { intArg, positiveNumberArg } from './args.js';
import { terminalProgress } from './progress.js';

interface MnistFlags {
  models: number;
  epochs: number;
  seed: number;
  batchSize: number;
  lr: number;
  noise: number;
  trainLimit?: number;
  testLimit?: number;
  saveWeights?: boolean;
  workers?: number;
  runs: string;
  json?: boolean;
}

export function registerMnistCommand(program: Command, runsOption: Option): void {
  const d = MNIST_DEFAULTS;
  program
    .command('mnist')
    .description(
      "the paper's MNIST auxiliary-logit experiment: students learn digits from noise through 3 auxiliary logits, " +
        "only from the teacher's init",
    )
    .option('--models <n>', 'models trained in parallel (the paper used 100)', intArg('--models', 2, 1000), d.models)
    .option('--epochs <n>', 'epochs for the teacher and for each student', intArg('--epochs', 1, 100), d.epochs)
    .option('--seed <n>', 'seed for inits, noise and data order', intArg('--seed', 0, 2 ** 32 - 1), d.seed)
    .option('--batch-size <n>', 'minibatch size', intArg('--batch-size', 1, 60000), d.batchSize)
    .option('--lr <x>', 'Adam learning rate', positiveNumberArg('--lr'), d.lr)
    .option('--noise <n>', 'noise images the students train on', intArg('--noise', 1, 1_000_000), d.noiseCount)
    .option('--train-limit <n>', 'use only the first N training digits (quick runs)', intArg('--train-limit', 1, 60000))
    .option('--test-limit <n>', 'use only the first N test digits (quick runs)', intArg('--test-limit', 1, 10000))
    .option('--save-weights', 'write every network as safetensors (about 1 MB each)')
    .option('--workers <n>', 'worker threads (default: one per core, at most 2)', intArg('--workers', 1, 64))
    .addOption(runsOption)
    .option('--json', 'print results as JSON')
    .action(async (f: MnistFlags) => {
      const options: MnistOptions = {
        models: f.models,
        epochs: f.epochs,
        seed: f.seed,
        batchSize: f.batchSize,
        lr: f.lr,
        trainLimit: f.trainLimit,
        testLimit: f.testLimit,
        noiseCount: f.noise,
        saveWeights: f.saveWeights ?? false,
      };
      const { runMnist } = await import('../pipeline/mnist.js');
      const { mnistTable } = await import('../mnist/results.js');
      const store = new RunStore(f.runs);
      const progress = terminalProgress();
      try {
        const r = await runMnist(options, { store, progress, workers: f.workers });
        progress.stop();
        if (f.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else
          process.stdout.write(
            `${mnistTable(r)}\n\nchart ${r.chart}; results in ${store.runDir(r.run)}/results.json; wall time ` +
              `${r.seconds.toFixed(1)}s\n`,
          );
      } finally {
        progress.stop();
        store.close();
      }
    });
}
