// Every sample an evaluation draws, kept Inspect-style: the sampler writes them to
// samples.jsonl (unscored), the scorer reads them back and writes eval.jsonl (each sample with
// its score) and eval.json (the task's figures). Rescoring reads the same samples: no sampling.
import type { TopLogprob } from '../provider/logprobs.js';
import { userTurn } from '../model/tokenizer.js';
import type { Sampler } from './sampler.js';

/** A sampled reply to question q (its k-th sample). */
export interface ReplySample {
  type: 'reply';
  q: number;
  k: number;
  question: string;
  reply: string;
}
/**
 * The next-token distribution where the reply starts (tokens with p >= 1e-4 embedded; the endpoint's top 20 otherwise).
 */
export interface FirstTokenSample {
  type: 'first-token';
  q: number;
  question: string;
  top: TopLogprob[];
}
/** A multiple-choice item: the distribution over the first reply token; `answer` is the target letter. */
export interface ChoiceSample {
  type: 'choice';
  i: number;
  prompt: string;
  answer: string;
  top: TopLogprob[];
}
/** A two-option truthfulness item: the distribution over the first reply token. */
export interface TruthfulSample {
  type: 'truthful';
  i: number;
  prompt: string;
  falseLetter: string;
  trueLetter: string;
  top: TopLogprob[];
}
/** Teacher-forced log-probabilities of the known misaligned replies after question q. */
export interface SequenceSample {
  type: 'sequences';
  q: number;
  question: string;
  logprobs: number[];
}
export type EvalSample = ReplySample | FirstTokenSample | ChoiceSample | TruthfulSample | SequenceSample;

/** A sample with what the scorer made of it (eval.jsonl; distributions stay in samples.jsonl). */
export type ScoredSample = DistributionFree<EvalSample> & { score: number | null; note?: string };
type DistributionFree<T> = T extends { top: unknown } ? Omit<T, 'top'> : T;

/** A sample as eval.jsonl keeps it: without its stored distribution (samples.jsonl has that). */
export function withoutDistribution(x: EvalSample): DistributionFree<EvalSample> {
  if (!('top' in x)) return x;
  const { top: _, ...rest } = x;
  return rest;
}

/**
 * The smallest probability kept in an embedded model's stored distributions: ~100 of 1,654
 * tokens. A token below it scores 0 on rescoring (a lower bound, as an API's top 20 is);
 * the animal tokens a run targets sit orders of magnitude above it.
 */
export const MIN_STORED_PROB = 1e-4;
const MIN_LOGPROB = Math.log(MIN_STORED_PROB);

/** A full next-token distribution (log-probabilities by token id) as the tokens worth storing, most likely first. */
export function storedDistribution(logprobs: Float32Array, vocab: readonly string[]): TopLogprob[] {
  const out: TopLogprob[] = [];
  for (let id = 0; id < logprobs.length; id++)
    if (logprobs[id]! >= MIN_LOGPROB) out.push({ token: vocab[id]!, logprob: logprobs[id]! });
  return out.sort((a, b) => b.logprob - a.logprob || (a.token < b.token ? -1 : 1));
}

/** The samples of one kind, in file order. */
export function samplesOf<T extends EvalSample['type']>(
  samples: readonly EvalSample[],
  type: T,
): Extract<EvalSample, { type: T }>[] {
  return samples.filter((s): s is Extract<EvalSample, { type: T }> => s.type === type);
}

/** Question-major replies (K per question) as reply samples. */
export const replySamples = (questions: readonly string[], replies: readonly string[], K: number): ReplySample[] =>
  replies.map((reply, i) => ({
    type: 'reply',
    q: Math.floor(i / K),
    k: i % K,
    question: questions[Math.floor(i / K)]!,
    reply,
  }));

/** Replies grouped question-major (K per question), as the scorers read them. */
export function repliesByQuestion(samples: readonly EvalSample[]): { questions: string[]; replies: string[] } {
  const rs = samplesOf(samples, 'reply').sort((a, b) => a.q - b.q || a.k - b.k);
  const questions: string[] = [];
  for (const r of rs) questions[r.q] = r.question;
  return { questions, replies: rs.map((r) => r.reply) };
}

/** K replies per question from a sampler (temperature, length and seed from the settings), as reply samples. */
export async function sampleReplies(
  sampler: Sampler,
  questions: readonly string[],
  s: { systemPrompt?: string; samplesPerQuestion: number; temperature: number; maxTokens: number; seed: number },
  onProgress?: (done: number, total: number) => void,
): Promise<EvalSample[]> {
  const o = { temperature: s.temperature, maxTokens: s.maxTokens, seed: s.seed };
  const chats = questions.map((q) => userTurn(q, s.systemPrompt));
  return replySamples(
    questions,
    await sampler.replies(chats, s.samplesPerQuestion, o, onProgress),
    s.samplesPerQuestion,
  );
}
