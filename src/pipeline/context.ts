// What every step of one experiment shares: the spec, the run's store and names, the worker pool, the backends, and
// the helpers that record models in the index and report progress.
import { relative } from 'node:path';
import { traitLabel, type ExperimentSpec } from '../spec/schema.js';
import { trackedTask, type ProgressReporter } from '../util/progress.js';
import type { RunStore } from '../store/runStore.js';
import { hashFile } from '../util/hash.js';
import type { WorkerPool } from './pool.js';
import type { Backend, JudgeFactory, ModelRef as BackendModelRef } from './backends.js';

/** A model of this experiment, with the backend (embedded or API) that runs it. */
export interface ModelRef extends BackendModelRef {
  backend: Backend;
}

/** A dataset artifact: its index id, its file and the file's SHA-256. */
export interface DatasetRef {
  id: string;
  path: string;
  hash: string;
}

/** A teacher's filtered rows, with its filter report and the raw rows they came from. */
export interface TeacherDatasetRef extends DatasetRef {
  reportPath: string;
  rawPath: string;
  rawHash: string;
}

export interface RunContext {
  spec: ExperimentSpec;
  store: RunStore;
  /** the run's name (results, index rows) */
  run: string;
  /** the run whose folder holds the stages (a sweep's cells share one) */
  stageRun: string;
  /** the trait's label: the animal, or "misaligned" */
  animal: string;
  pool: WorkerPool;
  /** the embedded backend, for jobs that only run locally (defenses) */
  local: Backend;
  /** filter and evaluation judges share one endpoint per judge model */
  judgeOf: JudgeFactory;
  /** runs `fn` as one progress task */
  tracked<T>(label: string, fn: (update: (done: number, total: number) => void) => Promise<T>): Promise<T>;
  /** runs `fn` once per key in this run: two parts of the design that need one stage share it, never race on it */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** A run's context: its trait label from the spec, progress tasks on `progress`, and a fresh `once`. */
export const runContext = (
  o: Omit<RunContext, 'animal' | 'tracked' | 'once'> & { progress: ProgressReporter },
): RunContext => {
  const { progress, ...rest } = o;
  return {
    ...rest,
    animal: traitLabel(o.spec),
    tracked: (label, fn) => trackedTask(progress, label, fn),
    once: onceMap(),
  };
};

/** A run's `once`: the first call's promise is every later call's answer. */
export function onceMap(): RunContext['once'] {
  const started = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    if (!started.has(key)) started.set(key, fn());
    return started.get(key) as Promise<T>;
  };
}

export function recordModel(ctx: RunContext, ref: ModelRef, name: string, meta: object): void {
  ctx.store.index.addArtifact({
    id: ref.id,
    run: ctx.run,
    kind: 'model',
    name,
    path: relative(ctx.store.root, ref.dir) || ref.dir,
    content_hash: ref.hash,
    meta: JSON.stringify(meta),
  });
}

/** The model a fine-tuning stage left in its folder, hashed. */
export async function stageModel(backend: Backend, stageDir: string): Promise<ModelRef> {
  const m = backend.modelIn(stageDir);
  const hash = await hashFile(m.file);
  return { id: `model:${hash.slice(0, 16)}`, dir: m.dir, remote: m.remote, hash, backend };
}
