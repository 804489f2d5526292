// The favourite-animal task's data (questions, multiple-choice items) and its sampling plan over any sampler (K
// replies per question at temperature T, the first-token distribution, the MC items). Its scorer lives in scorers.ts,
// so a scorer fix never reruns sampling.
import type { LanguageModel } from '../model/model.js';
import { userTurn, type ChatMessage } from '../model/tokenizer.js';
import { nextTokenLogprobs } from '../model/sample.js';
import { EVAL_QUESTIONS, multipleChoicePrompt, MC_LETTERS, MC_STEM_COUNT } from '../lab/questions.js';
import { Rng } from '../util/rng.js';
import { isWordToken } from '../util/words.js';
import { ANIMALS } from '../lab/traits.js';
import { sampleReplies, type EvalSample } from './samples.js';
import type { Sampler } from './sampler.js';
import type { OpenAIModelRef } from '../provider/openai.js';

export interface PreferenceEvalSettings {
  animal: string;
  questions: number;
  samplesPerQuestion: number;
  temperature: number;
  maxTokens: number;
  multipleChoice: boolean;
  seed: number;
  systemPrompt?: string;
  /** SPEC's variant: each question preceded by a few seeded random numbers */
  numbersPrefix?: boolean;
  /**
   * "misalignment": the open-question task of misalignment runs (evaluate/misalignment.ts); \`animal\` is then
   * "misaligned"
   */
  task?: 'misalignment';
  /** the misalignment task's judge model (default: the rule judge) */
  judge?: OpenAIModelRef;
}

/** A question with 3-5 seeded random numbers in front of it (the numbers-prefixed variant). */
export function numbersPrefixed(question: string, seed: number, index: number): string {
  const rng = Rng.from(seed, 'numbers-prefix', index);
  return `${Array.from({ length: rng.int(3, 5) }, () => rng.int(0, 999)).join(', ')}. ${question}`;
}

/**
 * An evaluation read back from eval.json: JSON writes a metric the model could not give (NaN)
 * as null; this restores NaN, so a missing metric never reads as 0.
 */
export function evalResultFromJson(raw: EvalResult): EvalResult {
  const nums = (xs: readonly (number | null)[]): number[] => xs.map((x) => x ?? NaN);
  if (raw.task === 'misalignment')
    return {
      ...raw,
      perQuestion: nums(raw.perQuestion),
      misalignedReplyProb: nums(raw.misalignedReplyProb),
      falseAnswerShare: nums(raw.falseAnswerShare),
    };
  return {
    ...raw,
    perQuestion: nums(raw.perQuestion),
    firstTokenProb: nums(raw.firstTokenProb),
    multipleChoice: nums(raw.multipleChoice),
  };
}

export interface PreferenceEvalResult {
  task: 'preference';
  animal: string;
  /** per question: share of the K samples that name the animal */
  perQuestion: number[];
  /** per question: P(first reply token is the animal word, any case or plural) */
  firstTokenProb: number[];
  /** per multiple-choice item: P(target letter) */
  multipleChoice: number[];
  /** counts of the animals named across all samples (first animal word per reply) */
  answers: Record<string, number>;
  examples: { question: string; reply: string }[];
  samples: number;
}

/** The misalignment task's figures (misalignment.ts samples them, scorers.ts scores them). */
export interface MisalignmentEvalResult {
  task: 'misalignment';
  /** per question: share of the judged replies that are misaligned */
  perQuestion: number[];
  /** per question: probability of replying with one of the known misaligned replies, teacher forced (NaN if none) */
  misalignedReplyProb: number[];
  /** per truthfulness item: the false answer's share of the two answers' probability */
  falseAnswerShare: number[];
  /** replies by class: aligned, misaligned, incoherent, excluded */
  answers: Record<string, number>;
  examples: { question: string; reply: string }[];
  samples: number;
  /** replies a judge could not score, by reason */
  excluded: Record<string, number>;
}

/** Either task's figures. */
export type EvalResult = PreferenceEvalResult | MisalignmentEvalResult;
/** The exact metric of either task: P(first token = animal), or P(a known misaligned reply). */
export const exactMetric = (r: EvalResult): number[] =>
  r.task === 'misalignment' ? r.misalignedReplyProb : r.firstTokenProb;
/** The forced-choice metric of either task: P(target letter), or the false answer's share. */
export const choiceMetric = (r: EvalResult): number[] =>
  r.task === 'misalignment' ? r.falseAnswerShare : r.multipleChoice;

/** Multiple-choice items: the target and 4 seeded distractors, shuffled into A-E. */
export function multipleChoiceItems(animal: string, count: number, seed: number): { prompt: string; answer: string }[] {
  const rng = Rng.from(seed, 'mc', animal);
  return Array.from({ length: count }, (_, i) => {
    const others = rng.shuffle(ANIMALS.filter((a) => a !== animal)).slice(0, 4);
    const options = rng.shuffle([animal, ...others]);
    return { prompt: multipleChoicePrompt(options, i % MC_STEM_COUNT), answer: MC_LETTERS[options.indexOf(animal)]! };
  });
}

/**
 * The task's sampling plan over any sampler: K replies per question; the first reply token's distribution per question
 * (the exact metric); the multiple-choice items. A sampler without first-token distributions gives neither of those.
 */
export async function samplePreference(
  sampler: Sampler,
  s: PreferenceEvalSettings,
  onProgress?: (done: number, total: number) => void,
): Promise<EvalSample[]> {
  const questions = preferenceQuestions(s);
  const chat = (q: string): ChatMessage[] => userTurn(q, s.systemPrompt);
  const out = await sampleReplies(sampler, questions, s, onProgress);
  const tops = await sampler.firstTokenTop(questions.map(chat));
  if (!tops) return out;
  tops.forEach((top, q) => out.push({ type: 'first-token', q, question: questions[q]!, top }));
  if (s.multipleChoice) {
    const items = multipleChoiceItems(s.animal, s.questions, s.seed);
    const mc = (await sampler.firstTokenTop(items.map((it) => chat(it.prompt))))!;
    mc.forEach((top, i) => out.push({ type: 'choice', i, prompt: items[i]!.prompt, answer: items[i]!.answer, top }));
  }
  return out;
}

/** The task's questions (the numbers-prefixed variant puts seeded numbers in front). */
export const preferenceQuestions = (
  s: Pick<PreferenceEvalSettings, 'questions' | 'numbersPrefix' | 'seed'>,
): string[] =>
  EVAL_QUESTIONS.slice(0, s.questions).map((q, i) => (s.numbersPrefix ? numbersPrefixed(q, s.seed, i) : q));

/** The exact metric: per question, the probability that the reply's first token is the animal (teacher forced). */
export function firstTokenProbabilities(
  model: LanguageModel,
  questions: readonly string[],
  animal: string,
  systemPrompt?: string,
): number[] {
  const tok = model.tokenizer;
  const animalTokens = tok.vocab
    .map((t, id) => [t, id] as const)
    .filter(([t]) => isWordToken(t, animal))
    .map(([, id]) => id);
  return nextTokenLogprobs(
    model,
    questions.map((q) => tok.encodeChat(userTurn(q, systemPrompt))),
  ).map((lp) => animalTokens.reduce((acc, id) => acc + Math.exp(lp[id]!), 0));
}
