// The favourite-animal task with an OpenAI-compatible endpoint as the sampler: the same
// questions and scorer as the local task. The exact first-token probability and the
// multiple-choice score come from the endpoint's top-20 logprobs (a token outside the top 20
// counts as 0, so both are lower bounds); an endpoint without logprobs reports them as NaN.
import type { OpenAIEndpoint, Budget } from '../provider/openai.js';
import { tokenMass, type TopLogprob } from '../provider/logprobs.js';
import { userTurn, type ChatMessage } from '../model/tokenizer.js';
import { deriveSeed } from '../util/rng.js';
import { EVAL_QUESTIONS } from './questions.js';
import { isAnimalToken, multipleChoiceItems, scoreReplies, type PreferenceEvalResult, type PreferenceEvalSettings } from './preference.js';

const TOP = 20;

/** One greedy token with its top-20 alternatives (the logprob-scored metrics of both remote tasks). */
export async function greedyFirstTokenTop(endpoint: OpenAIEndpoint, model: string, messages: ChatMessage[], budget?: Budget): Promise<TopLogprob[]> {
  const r = await endpoint.chat(model, { messages, temperature: 0, topP: 1, maxTokens: 1, topLogprobs: TOP }, 0, budget);
  return r.firstTokenTop ?? [];
}

/** K seeded samples per question (question-major), through the endpoint's cache, limiter and retries. */
export async function sampleRemote(endpoint: OpenAIEndpoint, model: string, questions: readonly string[], s: PreferenceEvalSettings,
  o: { budget?: Budget; onProgress?: (done: number, total: number) => void }): Promise<string[]> {
  const K = s.samplesPerQuestion;
  const total = questions.length * K; let done = 0;
  return Promise.all(questions.flatMap((q, qi) => Array.from({ length: K }, async (_, k) => {
    const r = await endpoint.chat(model, { messages: userTurn(q, s.systemPrompt), temperature: s.temperature, topP: 1, maxTokens: s.maxTokens, seed: deriveSeed(s.seed, 'eval', qi, k) % 2 ** 31 }, k, o.budget);
    o.onProgress?.(++done, total);
    return r.text;
  })));
}

export async function evaluatePreferenceRemote(endpoint: OpenAIEndpoint, model: string, s: PreferenceEvalSettings,
  o: { logprobs: boolean; budget?: Budget; onProgress?: (done: number, total: number) => void }): Promise<PreferenceEvalResult> {
  const chat = (q: string): ChatMessage[] => userTurn(q, s.systemPrompt);
  const questions = EVAL_QUESTIONS.slice(0, s.questions);
  const replies = await sampleRemote(endpoint, model, questions, s, o);
  const firstTokenMass = async (messages: ChatMessage[], wanted: (token: string) => boolean): Promise<number> =>
    (o.logprobs ? tokenMass(await greedyFirstTokenTop(endpoint, model, messages, o.budget), wanted) : NaN);
  const firstTokenProb = await Promise.all(questions.map((q) => firstTokenMass(chat(q), (t) => isAnimalToken(t, s.animal))));
  const multipleChoice = s.multipleChoice && o.logprobs
    ? await Promise.all(multipleChoiceItems(s.animal, s.questions, s.seed).map((it) => firstTokenMass(chat(it.prompt), (t) => t.trim() === it.answer)))
    : [];
  return { ...scoreReplies(questions, replies, s), firstTokenProb, multipleChoice };
}
