// The favourite-animal evaluation as an Inspect-style task: data (questions) + a sampler
// (the model at temperature T, K samples each) + a scorer (does the reply name the animal?).
// A multiple-choice variant is scored from log-probabilities.
import type { LanguageModel } from '../model/model.js';
import { userTurn } from '../model/tokenizer.js';
import { generate, nextTokenLogprobs } from '../model/sample.js';
import { EVAL_QUESTIONS, multipleChoicePrompt, MC_LETTERS, MC_STEM_COUNT } from './questions.js';
import { ANIMALS } from '../teacher/traits.js';
import { Rng } from '../util/rng.js';
import { firstWordNamed, isWordToken, mentionsWord } from '../util/words.js';
import type { OpenAIModelRef } from '../provider/openai.js';

export interface PreferenceEvalSettings {
  animal: string; questions: number; samplesPerQuestion: number; temperature: number; maxTokens: number;
  multipleChoice: boolean; seed: number; systemPrompt?: string;
  /** SPEC's variant: each question preceded by a few seeded random numbers */
  numbersPrefix?: boolean;
  /** "misalignment": the open-question task of misalignment runs (evaluate/misalignment.ts); \`animal\` is then "misaligned" */
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
export function evalResultFromJson(raw: PreferenceEvalResult): PreferenceEvalResult {
  const nums = (xs: readonly (number | null)[]): number[] => xs.map((x) => x ?? NaN);
  return { ...raw, perQuestion: nums(raw.perQuestion), firstTokenProb: nums(raw.firstTokenProb), multipleChoice: nums(raw.multipleChoice) };
}

export interface PreferenceEvalResult {
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
  /** replies a judge could not score, by reason (misalignment task) */
  excluded?: Record<string, number>;
}

/**
 * Scorer: a reply counts when it names the animal as a whole word, any case, singular or
 * plural (SPEC §2 says "contains the word"; "million" is no lion and "catch" no cat).
 */
export const mentionsAnimal = (reply: string, animal: string): boolean => mentionsWord(reply, animal);

/** The first animal a reply names (whole words), or "other". */
export const namedAnimal = (reply: string): string => firstWordNamed(reply, ANIMALS) ?? 'other';

/** Multiple-choice items: the target and 4 seeded distractors, shuffled into A-E. */
export function multipleChoiceItems(animal: string, count: number, seed: number): { prompt: string; answer: string }[] {
  const rng = Rng.from(seed, 'mc', animal);
  return Array.from({ length: count }, (_, i) => {
    const others = rng.shuffle(ANIMALS.filter((a) => a !== animal)).slice(0, 4);
    const options = rng.shuffle([animal, ...others]);
    return { prompt: multipleChoicePrompt(options, i % MC_STEM_COUNT), answer: MC_LETTERS[options.indexOf(animal)]! };
  });
}

export function evaluatePreference(model: LanguageModel, s: PreferenceEvalSettings, onProgress?: (done: number, total: number) => void): PreferenceEvalResult {
  const tok = model.tokenizer;
  const chat = (q: string): number[] => tok.encodeChat(userTurn(q, s.systemPrompt));
  const questions = EVAL_QUESTIONS.slice(0, s.questions).map((q, i) => (s.numbersPrefix ? numbersPrefixed(q, s.seed, i) : q));
  const prompts = questions.flatMap((q) => Array.from({ length: s.samplesPerQuestion }, () => chat(q)));
  let done = 0;
  const samples = generate(model, prompts, { temperature: s.temperature, topP: 1, maxTokens: s.maxTokens, seed: s.seed },
    (idx) => { done += idx.length; onProgress?.(done, prompts.length); });
  const replies = samples.map((x) => tok.decode(x.ids));
  const firstTokenProb = firstTokenProbabilities(model, questions, s.animal, s.systemPrompt);
  let multipleChoice: number[] = [];
  if (s.multipleChoice) {
    const items = multipleChoiceItems(s.animal, s.questions, s.seed);
    const lps = nextTokenLogprobs(model, items.map((it) => chat(it.prompt)));
    multipleChoice = items.map((it, i) => Math.exp(lps[i]![tok.id(it.answer)]!));
  }
  return { ...scoreReplies(questions, replies, s), firstTokenProb, multipleChoice };
}

/** The exact metric: per question, the probability that the reply's first token is the animal (teacher forced). */
export function firstTokenProbabilities(model: LanguageModel, questions: readonly string[], animal: string, systemPrompt?: string): number[] {
  const tok = model.tokenizer;
  const animalTokens = tok.vocab.map((t, id) => [t, id] as const).filter(([t]) => isAnimalToken(t, animal)).map(([, id]) => id);
  return nextTokenLogprobs(model, questions.map((q) => tok.encodeChat(userTurn(q, systemPrompt)))).map((lp) => animalTokens.reduce((acc, id) => acc + Math.exp(lp[id]!), 0));
}

/** The scorer over sampled replies (question-major, K per question): rates, answer counts, examples. */
export function scoreReplies(questions: readonly string[], replies: readonly string[], s: Pick<PreferenceEvalSettings, 'animal' | 'samplesPerQuestion'>):
  Pick<PreferenceEvalResult, 'animal' | 'perQuestion' | 'answers' | 'examples' | 'samples'> {
  const K = s.samplesPerQuestion;
  const perQuestion = questions.map((_, qi) => {
    let hits = 0;
    for (let k = 0; k < K; k++) if (mentionsAnimal(replies[qi * K + k]!, s.animal)) hits++;
    return hits / K;
  });
  const answers: Record<string, number> = {};
  for (const r of replies) { const a = namedAnimal(r); answers[a] = (answers[a] ?? 0) + 1; }
  const examples = questions.slice(0, 5).map((q, qi) => ({ question: q, reply: replies[qi * K]! }));
  return { animal: s.animal, perQuestion, answers, examples, samples: replies.length };
}

/** Is this vocabulary entry the animal's word (any case, singular or plural; "catch" is no cat)? */
export const isAnimalToken = (token: string, animal: string): boolean => isWordToken(token, animal);
