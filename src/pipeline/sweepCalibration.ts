// The sweep's A/A check (report/calibration.ts): the control students of each grid seed are sampled once more on the
// next seed's evaluation stream (an evaluation stage like any other: cached, resumable), so that two control groups
// that differ only by chance can be compared as a run compares its groups, and every test's false-positive rate read.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentSpec } from '../spec/schema.js';
import type { RunStore } from '../store/runStore.js';
import { readJson, readJsonl } from '../util/atomic.js';
import { silentProgress, type ProgressReporter } from '../util/progress.js';
import type { EvalSample } from '../evaluate/samples.js';
import { EVALUATED_FILE, type EvaluationManifest } from '../report/results.js';
import { aaCalibration, type AaComparison, type SweepCalibration } from '../report/calibration.js';
import { WorkerPool } from './pool.js';
import { localBackend, runJudges } from './backends.js';
import { runContext, type ModelRef } from './context.js';
import { evaluateModel } from './students.js';

/** One seed of the grid: the spec of its first cell and that cell's run (the control students are every cell's). */
export interface SeedCell {
  seed: number;
  spec: ExperimentSpec;
  run: string;
}
interface ControlStudent {
  ref: ModelRef;
  label: string;
  samples: EvalSample[];
}

/** Why a sweep has no A/A check, or undefined when it can have one. */
export function calibrationUnavailable(spec: ExperimentSpec, seeds: readonly number[]): string | undefined {
  if (spec.trait.misalignment) return 'the A/A check scores animals; this is a misalignment spec';
  if (seeds.length < 2) return 'the A/A check needs two seeds or more';
  return undefined;
}

/** Resamples the control students of consecutive seeds on each other's streams and measures every test on them. */
export async function calibrateSweep(
  sweep: string,
  seedCells: readonly SeedCell[],
  o: { store: RunStore; workers?: number; progress?: ProgressReporter },
): Promise<SweepCalibration | undefined> {
  const { store } = o;
  const pool = new WorkerPool(seedCells[0]!.spec.workers ?? o.workers);
  const local = localBackend(pool);
  try {
    const controls = seedCells.map((c) => controlStudents(store, c.run, local));
    const comparisons: AaComparison[] = [];
    for (let i = 0; i + 1 < seedCells.length; i++)
      for (const [s, t] of [
        [i, i + 1],
        [i + 1, i],
      ] as const) {
        const stream = seedCells[s]!;
        const ctx = runContext({
          spec: stream.spec,
          store,
          run: sweep,
          stageRun: sweep,
          pool,
          local,
          judgeOf: runJudges(stream.spec.api, { cacheDir: join(store.root, 'api-cache'), cacheMode: 'use', seed: 0 }),
          progress: o.progress ?? silentProgress,
        });
        for (const [base, own] of controls[s]!) {
          const other = controls[t]!.get(base);
          if (!other) continue;
          const resampled = await Promise.all(
            other.map(async (m) => {
              const label = `aa-${m.label}-seed${seedCells[t]!.seed}-on-seed${stream.seed}`;
              const { samplesPath } = await evaluateModel(ctx, m.ref, label);
              return readJsonl<EvalSample>(join(store.runDir(sweep), samplesPath));
            }),
          );
          comparisons.push({
            base,
            stream: stream.seed,
            other: seedCells[t]!.seed,
            own: own.map((m) => m.samples),
            resampled,
          });
        }
      }
    if (!comparisons.length) return undefined;
    const e = seedCells[0]!.spec.evaluation;
    return aaCalibration(comparisons, { samplesPerQuestion: e.samplesPerQuestion, permutations: e.permutations });
  } finally {
    await pool.close();
  }
}

/** A cell's control students per base, with their samples, where their weights are on this machine. */
function controlStudents(store: RunStore, run: string, local: ModelRef['backend']): Map<string, ControlStudent[]> {
  const dir = store.runDir(run);
  const manifest = readJson<EvaluationManifest>(join(dir, EVALUATED_FILE));
  const byBase = new Map<string, ControlStudent[]>();
  const models = manifest.models
    .filter((m) => m.role === 'control' && !m.defense && m.samplesPath)
    .sort((a, b) => a.modelId.localeCompare(b.modelId));
  for (const m of models) {
    const artifact = store.index.artifact(m.modelId);
    const modelDir = artifact && join(store.root, artifact.path);
    if (!modelDir || !existsSync(join(modelDir, 'model.safetensors'))) continue; // an API model: not resampled here
    const list = byBase.get(m.base) ?? [];
    list.push({
      ref: { id: m.modelId, dir: modelDir, hash: artifact.content_hash, backend: local },
      label: artifact.name, // the name the run recorded it under (its train stage's), e.g. student-control-on-A-1
      samples: readJsonl<EvalSample>(join(dir, m.samplesPath!)),
    });
    byBase.set(m.base, list);
  }
  return byBase;
}
