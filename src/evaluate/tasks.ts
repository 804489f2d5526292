// The evaluation tasks, Inspect-style: a task is its data (questions, items), a sampling plan that runs against any
// Sampler (an embedded model or an endpoint: sampler.ts), and a scorer (scorers.ts). The pipeline runs sampling and
// scoring as two stages (samples.jsonl, then eval.json), so a scorer fix rescores without sampling again; `runTask`
// does both at once for the audits and tests.
import { ruleJudge, type Judge } from '../judge/judges.js';
import { preferenceQuestions, samplePreference, type EvalResult, type PreferenceEvalSettings } from './preference.js';
import { misalignmentQuestions, sampleMisalignment } from './misalignment.js';
import type { EvalSample, ScoredSample } from './samples.js';
import { scoreMisalignmentSamples, scorePreference } from './scorers.js';
import type { Sampler } from './sampler.js';

type OnProgress = (done: number, total: number) => void;
export interface Judges {
  alignment: Judge;
  coherence: Judge;
}

export interface Task {
  name: 'preference' | 'misalignment';
  /** the open questions the replies answer */
  questions(s: PreferenceEvalSettings): string[];
  /** every sample the task draws from a model, unscored (what a sampler cannot give is left out) */
  sample(sampler: Sampler, s: PreferenceEvalSettings, onProgress?: OnProgress): Promise<EvalSample[]>;
  /** pure over the samples, apart from a model judge's calls */
  score(
    samples: readonly EvalSample[],
    s: PreferenceEvalSettings,
    judges: Judges,
  ): Promise<{ result: EvalResult; scored: ScoredSample[] }>;
}

/** The favourite-animal task: replies name the animal; the exact metric; multiple choice. */
export const preferenceTask: Task = {
  name: 'preference',
  questions: preferenceQuestions,
  sample: samplePreference,
  score: async (samples, s) => scorePreference(samples, s),
};

/** The misalignment task: judged replies; the known misaligned replies' probability; truthfulness. */
export const misalignmentTask: Task = {
  name: 'misalignment',
  questions: misalignmentQuestions,
  sample: sampleMisalignment,
  score: (samples, s, judges) => scoreMisalignmentSamples(samples, s, judges),
};

/** The task an evaluation's settings name. */
export const taskOf = (s: Pick<PreferenceEvalSettings, 'task'>): Task =>
  s.task === 'misalignment' ? misalignmentTask : preferenceTask;

/** Sample and score in one go (the audits' and tests' use); the rule judges unless given others. */
export async function runTask(
  sampler: Sampler,
  s: PreferenceEvalSettings,
  o: { judges?: Judges; onProgress?: OnProgress } = {},
): Promise<EvalResult> {
  const task = taskOf(s);
  const judges = o.judges ?? { alignment: ruleJudge('alignment'), coherence: ruleJudge('coherence') };
  return (await task.score(await task.sample(sampler, s, o.onProgress), s, judges)).result;
}
