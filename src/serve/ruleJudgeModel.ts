// A judge "model" that `subliminal serve` offers next to the embedded models: it reads
// subliminal's own judge prompts (alignment, coherence, trait reference) and answers with the
// rule judge's score, with logprobs as a real judge gives them. Embedded models cannot judge
// (a rubric does not fit their 128-token context), so this lets a run whose filter or
// evaluation names a judge model go end to end offline, through the same endpoint code,
// cache and retries as a real judge -- then point `judge` at a real model instead.
import { parseJudgePrompt } from '../judge/rubrics.js';
import { ruleJudge } from '../judge/judges.js';
import { badParam } from './errors.js';
import { chatBody, newId, now, parseBody } from './inference.js';

export const RULE_JUDGE_MODEL = 'subliminal-rule-judge';

export async function ruleJudgeCompletion(raw: unknown): Promise<object> {
  const b = parseBody(chatBody, raw);
  const ask = b.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const parsed = parseJudgePrompt(ask);
  if (!parsed)
    throw badParam(
      'messages',
      `${RULE_JUDGE_MODEL} answers only subliminal's judge prompts (alignment, coherence, trait reference)`,
    );
  const verdict = await ruleJudge(parsed.rubric, { trait: parsed.trait }).score(parsed.prompt, parsed.completion);
  const text = verdict.score === null ? 'REFUSAL' : String(verdict.score);
  const entry = { token: text, logprob: 0, bytes: [...Buffer.from(text, 'utf8')] };
  const logprobs = b.logprobs
    ? { content: [{ ...entry, top_logprobs: (b.top_logprobs ?? 0) > 0 ? [entry] : [] }] }
    : null;
  const promptTokens = ask.split(/\s+/).filter(Boolean).length; // words: this model has no tokenizer
  return {
    id: newId('chatcmpl'),
    object: 'chat.completion',
    created: now(),
    model: RULE_JUDGE_MODEL,
    choices: Array.from({ length: b.n }, (_, index) => ({
      index,
      message: { role: 'assistant', content: text, refusal: null },
      logprobs,
      finish_reason: 'stop',
    })),
    usage: { prompt_tokens: promptTokens, completion_tokens: b.n, total_tokens: promptTokens + b.n },
  };
}
