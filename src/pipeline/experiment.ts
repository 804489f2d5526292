// One experiment, stage by stage: teachers -> generate -> filter -> train students -> evaluate
// -> results. Each stage is keyed by the hash of its inputs, so a rerun skips what is done and
// resumes what was cut off. Heavy jobs run on the worker pool; lineage goes to the index.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkModelFolder } from '../model/model.js';
import { silentProgress, type ProgressReporter } from '../util/progress.js';
import type { ExperimentSpec } from '../spec/schema.js';
import type { RunStore } from '../store/runStore.js';
import { hashFile, hashConfig } from '../util/hash.js';
import { writeJsonAtomic, readJson } from '../util/atomic.js';
import type { FilterReport } from '../filter/numberRows.js';
import { summariseGroups, EVALUATED_FILE, type EvaluationManifest, type ExperimentResults } from '../report/results.js';
import type { CacheMode } from '../provider/cache.js';
import { withProgressFile } from '../store/progressFile.js';
import { runLifecycle } from './lifecycle.js';
import { WorkerPool } from './pool.js';
import { resolveModelDir } from '../store/models.js';
import { localBackend, openaiBackend, runJudges } from './backends.js';
import { familySignature, type FamilySignature } from './arms.js';
import { recordModel, runContext, type ModelRef } from './context.js';
import { teacherDatasets, trainTeachers } from './teacherData.js';
import { studentsAndEvaluations } from './students.js';

export interface ExperimentOptions {
  store: RunStore;
  specPath: string;
  progress?: ProgressReporter;
  workers?: number;
  cacheMode?: CacheMode;
  /** replace the results of an existing run of this name whose spec differs (otherwise refused) */
  replace?: boolean;
  /**
   * the folder (a run name) that holds this run's stages: a sweep's cells share theirs, so a stage whose inputs agree
   * runs once
   */
  stageRun?: string;
}

export async function runExperiment(spec: ExperimentSpec, o: ExperimentOptions): Promise<ExperimentResults> {
  const { store } = o;
  const run = spec.name;
  const stageRun = o.stageRun ?? run;
  const progress = withProgressFile(o.progress ?? silentProgress, store.runDir(run));
  const specHash = hashConfig(spec);
  // everything that can be checked is checked before the store is touched: model folders exist and are whole
  const localBases = new Map<string, { dir: string; hash: string }>();
  const signatures = new Map<string, FamilySignature>(); // which local bases are one family (the students' arms)
  for (const [name, b] of Object.entries(spec.bases)) {
    if (typeof b !== 'string') continue;
    const dir = resolveModelDir(b, { specPath: o.specPath, runsDir: store.root });
    checkModelFolder(dir);
    localBases.set(name, { dir, hash: await hashFile(join(dir, 'model.safetensors')) });
    signatures.set(name, familySignature(dir));
  }
  const pool = new WorkerPool(spec.workers ?? o.workers);
  const local = localBackend(pool);
  // one backend per API base; the response cache is shared by the whole store
  const apiOptions = {
    cacheDir: join(store.root, 'api-cache'),
    cacheMode: o.cacheMode ?? 'use',
    seed: spec.seed,
  } as const;
  const ctx = runContext({
    spec,
    store,
    run,
    stageRun,
    pool,
    local,
    judgeOf: runJudges(spec.api, apiOptions),
    progress,
  });

  return runLifecycle(
    store,
    { run, kind: 'experiment', specHash, specPath: o.specPath, spec, replace: o.replace },
    pool,
    async () => {
      // Bases
      const bases = new Map<string, ModelRef>();
      for (const [name, b] of Object.entries(spec.bases)) {
        let ref: ModelRef;
        if (typeof b === 'string') {
          const { dir, hash } = localBases.get(name)!;
          ref = { id: `model:${hash.slice(0, 16)}`, dir, hash, backend: local };
        } else {
          const backend = openaiBackend(b, spec.api, apiOptions);
          const hash = hashConfig({ baseURL: b.baseURL ?? null, model: b.id });
          ref = {
            id: `model:${hash.slice(0, 16)}`,
            dir: b.baseURL ?? 'https://api.openai.com/v1',
            remote: b.id,
            hash,
            backend,
          };
        }
        bases.set(name, ref);
        recordModel(ctx, ref, `base-${name}`, { role: 'base', family: name });
      }

      const teachers = await trainTeachers(ctx, bases);
      const datasets = await teacherDatasets(ctx, teachers);
      const models = { bases, teachers, datasets, signatures };
      const { evaluated, defenseReports } = await studentsAndEvaluations(ctx, models);

      const filterReports = Object.fromEntries(
        spec.teachers.map((t) => [t.name, readJson<FilterReport>(datasets.get(t.name)!.reportPath)]),
      );
      const results = summariseGroups(spec, evaluated, filterReports, defenseReports);
      // what `subliminal rescore` needs to score the run again from its samples
      const manifest: EvaluationManifest = {
        models: evaluated.map(({ result: _, ...m }) => m),
        filterReports,
        defenseReports,
      };
      writeJsonAtomic(join(store.runDir(run), EVALUATED_FILE), manifest);
      return { results, headline: results.headline };
    },
  );
}

export const resultsPath = (store: RunStore, run: string): string => join(store.runDir(run), 'results.json');
export const hasResults = (store: RunStore, run: string): boolean => existsSync(resultsPath(store, run));
