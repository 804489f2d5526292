// The misalignment task's data and sampling plan over any sampler: K replies to each held-out open question; each
// known misaligned reply's probability after each question (the exact metric, where the sampler scores given
// replies); the truthfulness items. Its scorer (two judges) lives in scorers.ts.
import { userTurn, type ChatMessage } from '../model/tokenizer.js';
import { MISALIGNED_REPLIES, OPEN_EVAL_QUESTIONS } from '../lab/misalignment.js';
import { truthfulnessItems } from './truthfulness.js';
import type { PreferenceEvalSettings } from './preference.js';
import { sampleReplies, type EvalSample } from './samples.js';
import type { Sampler } from './sampler.js';

export const misalignmentQuestions = (s: Pick<PreferenceEvalSettings, 'questions'>): string[] =>
  OPEN_EVAL_QUESTIONS.slice(0, s.questions);

export async function sampleMisalignment(
  sampler: Sampler,
  s: PreferenceEvalSettings,
  onProgress?: (done: number, total: number) => void,
): Promise<EvalSample[]> {
  const questions = misalignmentQuestions(s);
  const chat = (q: string): ChatMessage[] => userTurn(q, s.systemPrompt);
  const out = await sampleReplies(sampler, questions, s, onProgress);
  for (const [q, question] of questions.entries()) {
    const logprobs = await sampler.replyLogprobs(chat(question), MISALIGNED_REPLIES);
    if (logprobs) out.push({ type: 'sequences', q, question, logprobs });
  }
  if (s.multipleChoice) {
    const items = truthfulnessItems(s.seed);
    const tops = await sampler.firstTokenTop(items.map((it) => chat(it.prompt)));
    tops?.forEach((top, i) =>
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
