// The evaluation tasks end to end, Inspect-style: a task's data, its sampler (an embedded model
// or an endpoint) and its scorer. The pipeline runs sampling and scoring as two stages; the
// audits and tests call these to do both at once.
import type { LanguageModel } from '../model/model.js';
import type { Budget, OpenAIEndpoint } from '../provider/openai.js';
import { ruleJudge, type Judge } from '../judge/judges.js';
import { samplePreference, type PreferenceEvalResult, type PreferenceEvalSettings } from './preference.js';
import { samplePreferenceRemote } from './remotePreference.js';
import { sampleMisalignment, sampleMisalignmentRemote } from './misalignment.js';
import { scoreMisalignmentSamples, scorePreference } from './scorers.js';

/** Sample and score in one go (the audits' use). */
export function evaluatePreference(
  model: LanguageModel,
  s: PreferenceEvalSettings,
  onProgress?: (done: number, total: number) => void,
): PreferenceEvalResult {
  return scorePreference(samplePreference(model, s, onProgress), s).result;
}

export async function evaluatePreferenceRemote(
  endpoint: OpenAIEndpoint,
  model: string,
  s: PreferenceEvalSettings,
  o: { logprobs: boolean; budget?: Budget; onProgress?: (done: number, total: number) => void },
): Promise<PreferenceEvalResult> {
  return scorePreference(await samplePreferenceRemote(endpoint, model, s, o), s).result;
}

export async function evaluateMisalignment(
  model: LanguageModel,
  s: PreferenceEvalSettings,
  onProgress?: (done: number, total: number) => void,
): Promise<PreferenceEvalResult> {
  return (
    await scoreMisalignmentSamples(sampleMisalignment(model, s, onProgress), s, {
      alignment: ruleJudge('alignment'),
      coherence: ruleJudge('coherence'),
    })
  ).result;
}

/**
 * The same task with an OpenAI-compatible endpoint as the sampler and `judges` as the scorer
 * (a model judge, or the rule judge for embedded models behind `subliminal serve`). The exact
 * probability needs prompt logprobs of whole replies, which chat endpoints do not give: NaN.
 */
export async function evaluateMisalignmentRemote(
  endpoint: OpenAIEndpoint,
  model: string,
  s: PreferenceEvalSettings,
  o: {
    judges: { alignment: Judge; coherence: Judge };
    logprobs: boolean;
    budget?: Budget;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<PreferenceEvalResult> {
  return (await scoreMisalignmentSamples(await sampleMisalignmentRemote(endpoint, model, s, o), s, o.judges)).result;
}
