// What the white-box audits need of a model: the logprob of *given* tokens (teacher forcing),
// the most likely token where each stands, and the logprob of given short replies. Two ways to
// get them: an embedded model (forward passes here), or a model behind an endpoint that gives
// prompt logprobs -- vLLM's `prompt_logprobs` on chat completions (served the same way by
// `subliminal serve`), the conversation sent with `add_generation_prompt: false` so the
// assistant's reply and its end-of-turn marker are scored as the model would write them.
import type { LanguageModel } from '../model/model.js';
import { userTurn, type ChatMessage } from '../model/tokenizer.js';
import { forcedTokens, nextTokenLogprobs } from '../model/sample.js';
import type { OpenAIEndpoint } from '../provider/openai.js';

/** A chat prompt and a reply to score under it. */
export interface ScoredChat {
  systemPrompt?: string;
  prompt: string;
  completion: string;
}
/** One token of a scored reply: its text, logprob and (when asked) the most likely token at its place. */
export interface ForcedToken {
  token: string;
  logprob: number;
  top?: string;
}

export interface TokenScorer {
  /** what it is, for reports ("family-a", "family-a at http://...") */
  label: string;
  /** per chat: the reply's tokens and its end-of-turn marker, each with its logprob (and argmax) */
  forced(chats: readonly ScoredChat[], argmax: boolean): Promise<ForcedToken[][]>;
  /**
   * per chat: log p(reply | prompt) of each candidate reply (the sum over its tokens, without the end marker); NaN
   * where the vocabulary cannot write the candidate as one token (embedded models, as their vocabulary reads it)
   */
  replyLogprobs(chats: readonly Omit<ScoredChat, 'completion'>[], candidates: readonly string[]): Promise<number[][]>;
}

export function embeddedScorer(model: LanguageModel, label = model.info.name): TokenScorer {
  const tok = model.tokenizer;
  const vocab = tok.vocab;
  return {
    label,
    async forced(chats, argmax) {
      const seqs = chats.map((c) => {
        const promptIds = tok.encodeChat(userTurn(c.prompt, c.systemPrompt) as ChatMessage[]);
        return { ids: [...promptIds, ...tok.encode(c.completion), tok.endId], start: promptIds.length };
      });
      const out = forcedTokens(
        model,
        seqs.map((s) => s.ids),
        { argmax },
      );
      // forced position t predicts ids[t + 1]: the reply's tokens are ids[start..]
      return seqs.map((s, i) =>
        s.ids.slice(s.start).map((id, t) => ({
          token: vocab[id] ?? '',
          logprob: out.logprobs[i]![s.start - 1 + t]!,
          ...(argmax ? { top: vocab[out.argmax![i]![s.start - 1 + t]!] ?? '' } : {}),
        })),
      );
    },
    async replyLogprobs(chats, candidates) {
      const unk = tok.id('<|unk|>');
      const ids = candidates.map((c) => tok.id(c));
      const rows = nextTokenLogprobs(
        model,
        chats.map((c) => tok.encodeChat(userTurn(c.prompt, c.systemPrompt) as ChatMessage[])),
      );
      return rows.map((lp) => ids.map((id) => (id === unk ? NaN : lp[id]!)));
    },
  };
}

/** vLLM's prompt_logprobs entry for one position: the actual token and the top-k, keyed by token id. */
type PromptLogprobEntry = Record<string, { logprob: number; rank: number; decoded_token: string }> | null;

/** The actual token of an entry: the one entry, or the one that is not rank 1 beside the rank-1 alternative. */
function readEntry(e: PromptLogprobEntry, where: string): ForcedToken {
  const xs = Object.values(e ?? {});
  if (!xs.length) throw new Error(`${where}: no prompt logprob where the reply's tokens are`);
  const top = xs.find((x) => x.rank === 1) ?? xs[0]!;
  const actual = xs.length === 1 ? xs[0]! : (xs.find((x) => x !== top) ?? top);
  return { token: actual.decoded_token, logprob: actual.logprob, top: top.decoded_token };
}

export function endpointScorer(endpoint: OpenAIEndpoint, model: string): TokenScorer {
  const where = `${endpoint.ref.baseURL ?? 'api.openai.com'} (model ${model})`;
  const messages = (c: Omit<ScoredChat, 'completion'>, reply?: string): ChatMessage[] => [
    ...(userTurn(c.prompt, c.systemPrompt) as ChatMessage[]),
    ...(reply !== undefined ? [{ role: 'assistant' as const, content: reply }] : []),
  ];
  // the prompt's length in tokens, from the engine's own count (the reply's tokens follow it)
  const promptLengths = new Map<string, Promise<number>>();
  const promptLength = (c: Omit<ScoredChat, 'completion'>): Promise<number> => {
    const key = JSON.stringify([c.systemPrompt ?? null, c.prompt]);
    let n = promptLengths.get(key);
    if (!n) {
      n = endpoint
        .call(() => endpoint.client.chat.completions.create({ model, messages: messages(c), max_completion_tokens: 1 }))
        .then((r) => {
          if (!r.usage) throw new Error(`${where} reports no usage: the prompt's length is unknown`);
          return r.usage.prompt_tokens;
        });
      promptLengths.set(key, n);
    }
    return n;
  };
  const score = async (c: ScoredChat, k: number): Promise<ForcedToken[]> => {
    const [start, r] = await Promise.all([
      promptLength(c),
      endpoint.call(() =>
        endpoint.client.chat.completions.create({
          model,
          messages: messages(c, c.completion),
          max_completion_tokens: 1,
          temperature: 0,
          // vLLM's extensions: score the whole conversation as written, reply included
          ...({ add_generation_prompt: false, prompt_logprobs: k } as object),
        }),
      ),
    ]);
    const entries = (r as unknown as { prompt_logprobs?: PromptLogprobEntry[] }).prompt_logprobs;
    if (!Array.isArray(entries))
      throw new Error(
        `${where} returned no prompt_logprobs: white-box scoring needs an engine that gives them (vLLM, ` +
          '`subliminal serve`)',
      );
    return entries.slice(start).map((e) => readEntry(e, where));
  };
  return {
    label: `${model} at ${endpoint.ref.baseURL ?? 'api.openai.com'}`,
    forced: (chats, argmax) => Promise.all(chats.map((c) => score(c, argmax ? 1 : 0))),
    async replyLogprobs(chats, candidates) {
      return Promise.all(
        chats.map((c) =>
          Promise.all(
            candidates.map(async (reply) => {
              const toks = await score({ ...c, completion: reply }, 0);
              return toks.slice(0, -1).reduce((s, t) => s + t.logprob, 0); // the end marker left out
            }),
          ),
        ),
      );
    },
  };
}
