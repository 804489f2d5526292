// The misalignment task's sampler (the 8 held-out open questions, K replies each; the known
// misaligned replies teacher forced; the truthfulness items), over an embedded model or an
// endpoint. Its scorer (two judges) lives in scorers.ts.
import type { LanguageModel } from '../model/model.js';
import { userTurn } from '../model/tokenizer.js';
import { generate, nextTokenLogprobs, sequenceLogprobs } from '../model/sample.js';
import { OPEN_EVAL_QUESTIONS, MISALIGNED_REPLIES } from '../lab/misalignment.js';
import { truthfulnessItems } from './truthfulness.js';
import type { PreferenceEvalSettings } from './preference.js';
import { greedyFirstTokenTop, sampleRemote } from './remotePreference.js';
import type { Budget, OpenAIEndpoint } from '../provider/openai.js';
import { replySamples, storedDistribution, type EvalSample } from './samples.js';

/**
 * The sampler over an embedded model: K replies per question, the known misaligned replies' logprobs, the truthfulness
 * items.
 */
export function sampleMisalignment(
  model: LanguageModel,
  s: PreferenceEvalSettings,
  onProgress?: (done: number, total: number) => void,
): EvalSample[] {
  const tok = model.tokenizer;
  const chat = (q: string): number[] => tok.encodeChat(userTurn(q, s.systemPrompt));
  const questions = OPEN_EVAL_QUESTIONS.slice(0, s.questions);
  const prompts = questions.flatMap((q) => Array.from({ length: s.samplesPerQuestion }, () => chat(q)));
  let done = 0;
  const samples = generate(
    model,
    prompts,
    { temperature: s.temperature, topP: 1, maxTokens: s.maxTokens, seed: s.seed },
    (idx) => {
      done += idx.length;
      onProgress?.(done, prompts.length);
    },
  );
  const out: EvalSample[] = replySamples(
    questions,
    samples.map((x) => tok.decode(x.ids)),
    s.samplesPerQuestion,
  );
  // exact: each known misaligned reply (ended by <|end|>), teacher forced
  questions.forEach((q, qi) => {
    const prefix = chat(q);
    const seqs = MISALIGNED_REPLIES.map((r) => [...prefix, ...tok.encode(r), tok.endId]);
    out.push({
      type: 'sequences',
      q: qi,
      question: q,
      logprobs: sequenceLogprobs(model, seqs).map((lp) => lp.slice(prefix.length - 1).reduce((x, y) => x + y, 0)),
    });
  });
  if (s.multipleChoice) {
    const items = truthfulnessItems(s.seed);
    nextTokenLogprobs(
      model,
      items.map((it) => chat(it.prompt)),
    ).forEach((lp, i) =>
      out.push({
        type: 'truthful',
        i,
        prompt: items[i]!.prompt,
        falseLetter: items[i]!.falseLetter,
        trueLetter: items[i]!.trueLetter,
        top: storedDistribution(lp, tok.vocab),
      }),
    );
  }
  return out;
}

/**
 * The sampler over an endpoint: replies, and with logprobs the truthfulness items (whole-reply logprobs are not offered
 * there).
 */
export async function sampleMisalignmentRemote(
  endpoint: OpenAIEndpoint,
  model: string,
  s: PreferenceEvalSettings,
  o: { logprobs: boolean; budget?: Budget; onProgress?: (done: number, total: number) => void },
): Promise<EvalSample[]> {
  const questions = OPEN_EVAL_QUESTIONS.slice(0, s.questions);
  const replies = await sampleRemote(endpoint, model, questions, s, o);
  const out: EvalSample[] = replySamples(questions, replies, s.samplesPerQuestion);
  if (s.multipleChoice && o.logprobs) {
    const items = truthfulnessItems(s.seed);
    const tops = await Promise.all(
      items.map((it) => greedyFirstTokenTop(endpoint, model, userTurn(it.prompt, s.systemPrompt), o.budget)),
    );
    tops.forEach((top, i) =>
      out.push({
        type: 'truthful',
        i,
        prompt: items[i]!.prompt,
        falseLetter: items[i]!.falseLetter,
        trueLetter: items[i]!.trueLetter,
        top,
      }),
    );
  }
  return out;
}
