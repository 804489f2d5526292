// `subliminal rescore RUN`: scores a finished run again from the samples its evaluations kept,
// with the scorers of the code as it is now (or for another target animal), without sampling.
// With the run's own target it rewrites results.json and report.html; with another animal it
// writes rescore-<animal>.json beside them and leaves the run's results alone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStore } from '../store/runStore.js';
import { lockRun } from '../store/runLock.js';
import { readJson, readJsonl, writeJsonAtomic } from '../util/atomic.js';
import { assertKnownAnimal } from '../lab/traits.js';
import type { ExperimentSpec } from '../spec/schema.js';
import { scoreSamples, scorerSettings } from '../evaluate/scorers.js';
import type { EvalSample } from '../evaluate/samples.js';
import { writeRunReport } from '../report/write.js';
import { runJudges } from './backends.js';
import {
  EVALUATED_FILE,
  summariseGroups,
  type EvaluatedModel,
  type EvaluationManifest,
  type ExperimentResults,
} from '../report/results.js';
import { resultsHeader } from './lifecycle.js';
import type { ResultsHeader } from '../report/results.js';
import { evaluationSettings } from './students.js';
import { hashConfig } from '../util/hash.js';

export interface RescoreOptions {
  animal?: string;
}

export async function rescoreRun(
  store: RunStore,
  run: string,
  o: RescoreOptions = {},
): Promise<{ results: ExperimentResults & ResultsHeader; path: string }> {
  const dir = store.runDir(run);
  for (const f of ['spec.json', EVALUATED_FILE]) {
    if (!existsSync(join(dir, f)))
      throw new Error(
        `run "${run}" in ${store.root} has no ${f}: rescore needs a finished experiment run made by this version ` +
          `(rerun it first)`,
      );
  }
  const spec = readJson<ExperimentSpec>(join(dir, 'spec.json'));
  const manifest = readJson<EvaluationManifest>(join(dir, EVALUATED_FILE));
  if (o.animal !== undefined) {
    if (spec.trait.misalignment)
      throw new Error('--animal rescoring is for preference runs; this is a misalignment run');
    assertKnownAnimal(o.animal);
  }
  const retarget = o.animal !== undefined && o.animal !== spec.trait.animal;
  const scored: ExperimentSpec = retarget ? { ...spec, trait: { animal: o.animal } } : spec;
  const release = retarget ? undefined : lockRun(dir, run); // rewriting results.json: one writer
  try {
    const judgeOf = runJudges(spec.api, { cacheDir: join(store.root, 'api-cache'), cacheMode: 'use', seed: spec.seed });
    const scorer = scorerSettings(evaluationSettings(scored)); // as the run's score stages derived it
    const models: EvaluatedModel[] = await Promise.all(
      manifest.models.map(async (m) => {
        if (!m.samplesPath || !existsSync(join(dir, m.samplesPath)))
          throw new Error(
            `run "${run}": the samples of ${m.group} (${m.samplesPath ?? 'none recorded'}) are gone; rerun the run`,
          );
        // the multiple-choice items were built around the run's own target: another target has none
        const samples = readJsonl<EvalSample>(join(dir, m.samplesPath)).filter(
          (x) => !(retarget && x.type === 'choice'),
        );
        return { ...m, result: (await scoreSamples(samples, scorer, judgeOf)).result };
      }),
    );
    const results = summariseGroups(scored, models, manifest.filterReports, manifest.defenseReports);
    const full = { ...resultsHeader('experiment', hashConfig(spec)), ...results };
    const path = join(dir, retarget ? `rescore-${o.animal}.json` : 'results.json');
    writeJsonAtomic(path, full);
    if (!retarget) {
      store.index.setRunStatus(run, 'done', JSON.stringify(results.headline));
      writeRunReport(store, run);
    }
    return { results: full, path };
  } finally {
    release?.();
  }
}
