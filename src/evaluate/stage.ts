// The evaluation's two stages: `evaluate` samples a model (its code: the samplers) and `score`
// scores those samples (its code: the scorers). A scorer fix reruns only the score stages.
import { join } from 'node:path';
import type { StageDef } from '../store/runStore.js';
import { readJsonl, writeJsonAtomic, writeJsonl } from '../util/atomic.js';
import type { OpenAIModelRef } from '../provider/openai.js';
import type { Judge } from '../judge/judges.js';
import type { EvalSample } from './samples.js';
import { scoreSamples, type ScorerSettings } from './scorers.js';

export const evaluateStage: StageDef = {
  kind: 'evaluate',
  code: [
    'evaluate/preference.ts',
    'evaluate/misalignment.ts',
    'evaluate/sampler.ts',
    'evaluate/samples.ts',
    'model/model.ts',
  ],
};
export const scoreStage: StageDef = { kind: 'score', code: ['evaluate/scorers.ts', 'evaluate/stage.ts'] };

/**
 * The score stage's work: samples.jsonl in; eval.json (the task's figures) and eval.jsonl (every sample, scored) out.
 */
export async function scoreEvaluation(
  samplesPath: string,
  scorer: ScorerSettings,
  dir: string,
  judgeOf: (ref: OpenAIModelRef | undefined, rubric: 'alignment' | 'coherence') => Promise<Judge>,
): Promise<{ outputs: Record<string, string> }> {
  const { result, scored } = await scoreSamples(readJsonl<EvalSample>(samplesPath), scorer, judgeOf);
  writeJsonl(join(dir, 'eval.jsonl'), scored);
  writeJsonAtomic(join(dir, 'eval.json'), result);
  return { outputs: { eval: 'eval.json', samples: 'eval.jsonl' } };
}
