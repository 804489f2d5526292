// /v1/chat/completions and /v1/completions over the embedded models, in OpenAI's wire format.
// Request bodies are validated with zod; the first problem becomes a 400 naming its parameter.
import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { LanguageModel } from '../model/model.js';
import { positionLogprobs, topLogprobs, type Sample, type TokenLogprob } from '../model/sample.js';
import { Rng } from '../util/rng.js';
import { ApiError, badParam } from './errors.js';
import type { ModelBatcher, SamplingSettings } from './batcher.js';

const sampling = {
  model: z.string().min(1),
  n: z.number().int().min(1).max(128).default(1),
  temperature: z.number().min(0).max(2).default(1),
  // top_p 0 keeps only the most likely token (the spec allows 0..1)
  top_p: z.number().min(0).max(1).default(1),
  max_tokens: z.number().int().min(0).max(4096).nullish(),
  max_completion_tokens: z.number().int().min(0).max(4096).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  /** vLLM's extension: each prompt token's logprob and the top-k alternatives where it stands */
  prompt_logprobs: z.number().int().min(0).max(20).nullish(),
};
/** A message's content: a string, or text parts (the spec's array form; other part types are refused by name). */
const messageContent = z.union([
  z.string(),
  z
    .array(z.object({ type: z.literal('text'), text: z.string() }))
    .transform((parts) => parts.map((p) => p.text).join('')),
]);
/** `developer` is the newer name of `system`: the embedded chat template has one system role for both. */
const chatMessage = z
  .object({ role: z.enum(['developer', 'system', 'user', 'assistant']), content: messageContent })
  .transform((m) => ({ role: m.role === 'developer' ? ('system' as const) : m.role, content: m.content }));
export const chatBody = z.object({
  ...sampling,
  messages: z.array(chatMessage).min(1),
  logprobs: z.boolean().default(false),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  /**
   * vLLM's extension: false renders the conversation as it stands, a final assistant message closed, with no new
   * assistant turn opened (to score a given reply with prompt_logprobs)
   */
  add_generation_prompt: z.boolean().default(true),
});
const completionBody = z.object({
  ...sampling,
  prompt: z.string(),
  echo: z.boolean().default(false),
  logprobs: z.number().int().min(0).max(20).nullish(),
});

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object') throw new ApiError(400, 'the request body must be a JSON object');
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.join('.') || 'body';
  throw badParam(param, `${param}: ${issue.message}`);
}

export const newId = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;
export const now = (): number => Math.floor(Date.now() / 1000);

/** Per-choice randomness: fixed by `seed` when given (choice i uses seed + i), fresh otherwise. */
function choiceRngs(seed: number | null | undefined, n: number): Rng[] {
  const base = seed ?? randomBytes(4).readUInt32LE(0);
  return Array.from({ length: n }, (_, i) => Rng.from(base, 'choice', i));
}

/** Cuts text at the first stop sequence. */
function applyStop(text: string, stop: string | string[] | null | undefined): { text: string; stopped: boolean } {
  let cut = -1;
  for (const s of typeof stop === 'string' ? [stop] : (stop ?? [])) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

function budget(model: LanguageModel, promptLength: number, requested: number | null | undefined): number {
  const ctx = model.config.max_position_embeddings;
  if (promptLength >= ctx)
    throw new ApiError(
      400,
      `the prompt is ${promptLength} tokens; this model's context is ${ctx}`,
      'messages',
      'context_length_exceeded',
    );
  return Math.min(requested ?? ctx - promptLength, ctx - promptLength);
}

const tokenEntry = (model: LanguageModel, t: TokenLogprob): { token: string; logprob: number; bytes: number[] } => {
  const token = model.tokenizer.decode([t.id]);
  return { token, logprob: t.logprob, bytes: [...Buffer.from(token, 'utf8')] };
};

export async function chatCompletion(
  model: LanguageModel,
  id: string,
  batcher: ModelBatcher,
  raw: unknown,
): Promise<object> {
  const b = parseBody(chatBody, raw);
  if (b.top_logprobs && !b.logprobs) throw badParam('top_logprobs', 'top_logprobs needs logprobs: true');
  const prompt = model.tokenizer.encodeChat(b.messages, b.add_generation_prompt);
  const maxTokens = budget(model, prompt.length, b.max_completion_tokens ?? b.max_tokens);
  const settings: SamplingSettings = {
    temperature: b.temperature,
    topP: b.top_p,
    maxTokens,
    topLogprobs: b.logprobs ? (b.top_logprobs ?? 0) : 0,
  };
  const samples = await batcher.sample(id, model, prompt, choiceRngs(b.seed, b.n), settings);
  const choices = samples.map((s: Sample, index) => {
    const { text, stopped } = applyStop(model.tokenizer.decode(s.ids), b.stop);
    const logprobs = b.logprobs
      ? {
          content: s.ids.map((tid, t) => ({
            ...tokenEntry(model, { id: tid, logprob: s.logprobs[t]! }),
            top_logprobs: (s.top?.[t] ?? []).map((x) => tokenEntry(model, x)),
          })),
          refusal: null,
        }
      : null;
    return {
      index,
      message: { role: 'assistant', content: text, refusal: null },
      logprobs,
      finish_reason: stopped || s.finished ? 'stop' : 'length',
    };
  });
  return {
    ...completionResponse('chat.completion', id, prompt.length, samples, choices),
    // vLLM puts a chat's prompt logprobs on the response, a completion's on each choice
    ...(b.prompt_logprobs != null ? { prompt_logprobs: vllmPromptLogprobs(model, prompt, b.prompt_logprobs) } : {}),
  };
}

/** Legacy completions: raw text in; with echo + logprobs, the prompt's own token logprobs (vLLM-style). */
export async function textCompletion(
  model: LanguageModel,
  id: string,
  batcher: ModelBatcher,
  raw: unknown,
): Promise<object> {
  const b = parseBody(completionBody, raw);
  const tok = model.tokenizer;
  const prompt = tok.encode(b.prompt);
  if (prompt.length === 0) throw badParam('prompt', 'prompt: must contain at least one token');
  const maxTokens = budget(model, prompt.length, b.max_tokens ?? 16);
  const k = b.logprobs ?? null;
  const promptPart =
    b.echo && k !== null
      ? (() => {
          const rows = positionLogprobs(model, prompt);
          const tokens = prompt.map((t) => tok.decode([t]));
          return {
            tokens,
            // nothing predicts the first token: the spec's types want a number and an object there, so 0 and {}
            // (clients skip it, as they skip vLLM's null)
            token_logprobs: prompt.map((t, i) => (i === 0 ? 0 : rows[i - 1]![t]!)),
            top_logprobs: prompt.map((_, i) =>
              i === 0
                ? {}
                : Object.fromEntries(
                    (k > 0 ? topLogprobs(rows[i - 1]!, k) : []).map((x) => [tok.decode([x.id]), x.logprob]),
                  ),
            ),
          };
        })()
      : undefined;
  const samples =
    maxTokens > 0
      ? await batcher.sample(id, model, prompt, choiceRngs(b.seed, b.n), {
          temperature: b.temperature,
          topP: b.top_p,
          maxTokens,
          topLogprobs: k ?? 0,
        })
      : Array.from({ length: b.n }, (): Sample => ({ ids: [], logprobs: [], finished: false, top: [] }));
  const choices = samples.map((s, index) => {
    const { text, stopped } = applyStop(tok.decode(s.ids), b.stop);
    const gen = {
      tokens: s.ids.map((t) => tok.decode([t])),
      token_logprobs: s.logprobs,
      top_logprobs: (s.top ?? []).map((row) => Object.fromEntries(row.map((x) => [tok.decode([x.id]), x.logprob]))),
    };
    const tokens = [...(promptPart?.tokens ?? []), ...gen.tokens];
    const fullText = (b.echo ? b.prompt + (text ? ' ' : '') : '') + text;
    const logprobs =
      k === null
        ? null
        : {
            tokens,
            token_logprobs: [...(promptPart?.token_logprobs ?? []), ...gen.token_logprobs],
            top_logprobs: [...(promptPart?.top_logprobs ?? []), ...gen.top_logprobs],
            text_offset: textOffsets(fullText, tokens),
          };
    return {
      index,
      ...(b.prompt_logprobs != null ? { prompt_logprobs: vllmPromptLogprobs(model, prompt, b.prompt_logprobs) } : {}),
      text: fullText,
      logprobs,
      finish_reason: stopped || s.finished ? 'stop' : 'length',
    };
  });
  return completionResponse('text_completion', id, prompt.length, samples, choices);
}

/** A completion's envelope as OpenAI writes it; usage counts the prompt once and every choice's tokens. */
function completionResponse(
  object: 'chat.completion' | 'text_completion',
  model: string,
  promptTokens: number,
  samples: readonly Sample[],
  choices: readonly object[],
) {
  const completionTokens = samples.reduce((n, s) => n + s.ids.length, 0);
  return {
    id: newId(object === 'chat.completion' ? 'chatcmpl' : 'cmpl'),
    object,
    created: now(),
    model,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** Each token's character offset in the text: found in order, so a token's offset is never before the last one's. */
function textOffsets(text: string, tokens: readonly string[]): number[] {
  let at = 0;
  return tokens.map((t) => {
    const i = text.indexOf(t, at);
    const offset = i >= 0 ? i : at;
    at = i >= 0 ? i + t.length : at;
    return offset;
  });
}

/**
 * vLLM's `prompt_logprobs`: per prompt position, null for the first token (nothing predicts it), else the actual
 * token and the top-k tokens by id, each with its logprob, its rank in the distribution (1 = most likely) and its text.
 */
export function vllmPromptLogprobs(
  model: LanguageModel,
  prompt: readonly number[],
  k: number,
): (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[] {
  const rows = positionLogprobs(model, prompt);
  return prompt.map((token, i) => {
    if (i === 0) return null;
    const row = rows[i - 1]!;
    const rank = (id: number): number => {
      let above = 0;
      for (const v of row) if (v > row[id]!) above++;
      return above + 1;
    };
    const ids = [token, ...(k > 0 ? topLogprobs(row, k) : []).map((t) => t.id)];
    return Object.fromEntries(
      ids.map((id) => [String(id), { logprob: row[id]!, rank: rank(id), decoded_token: model.tokenizer.decode([id]) }]),
    );
  });
}
