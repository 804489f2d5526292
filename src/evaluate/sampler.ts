// A sampler is what an evaluation task asks of a model, Inspect-style: replies to chats, the distribution of a reply's
// first token, and the log-probability of whole given replies. Two implementations: an embedded model (every
// operation, exact) and an OpenAI-compatible endpoint (replies; first tokens from its top-20 logprobs where it gives
// them; no whole-reply logprobs). The tasks (tasks.ts) are written once against this interface.
import type { LanguageModel } from '../model/model.js';
import type { ChatMessage } from '../model/tokenizer.js';
import { generate, nextTokenLogprobs, sequenceLogprobs } from '../model/sample.js';
import type { Budget, OpenAIEndpoint } from '../provider/openai.js';
import type { TopLogprob } from '../provider/logprobs.js';
import { deriveSeed } from '../util/rng.js';
import { storedDistribution } from './samples.js';

export interface ReplyOptions {
  temperature: number;
  maxTokens: number;
  seed: number;
}
type OnProgress = (done: number, total: number) => void;

export interface Sampler {
  /** `k` replies to each chat, chat-major (the first chat's k replies first), seeded by `o.seed`. */
  replies(chats: readonly ChatMessage[][], k: number, o: ReplyOptions, onProgress?: OnProgress): Promise<string[]>;
  /** The first reply token's distribution after each chat; undefined where the model gives none. */
  firstTokenTop(chats: readonly ChatMessage[][]): Promise<TopLogprob[][] | undefined>;
  /** The log-probability of each given reply (ended) after the chat, teacher forced; undefined where not offered. */
  replyLogprobs(chat: readonly ChatMessage[], replies: readonly string[]): Promise<number[] | undefined>;
}

/** An embedded model: batched KV-cached sampling and exact teacher-forced probabilities. */
export function embeddedSampler(model: LanguageModel): Sampler {
  const tok = model.tokenizer;
  return {
    async replies(chats, k, o, onProgress) {
      const prompts = chats.flatMap((c) => Array.from({ length: k }, () => tok.encodeChat(c)));
      let done = 0;
      const out = generate(
        model,
        prompts,
        { temperature: o.temperature, topP: 1, maxTokens: o.maxTokens, seed: o.seed },
        (idx) => {
          done += idx.length;
          onProgress?.(done, prompts.length);
        },
      );
      return out.map((x) => tok.decode(x.ids));
    },
    async firstTokenTop(chats) {
      return nextTokenLogprobs(
        model,
        chats.map((c) => tok.encodeChat(c)),
      ).map((lp) => storedDistribution(lp, tok.vocab));
    },
    async replyLogprobs(chat, replies) {
      const prefix = tok.encodeChat(chat);
      const seqs = replies.map((r) => [...prefix, ...tok.encode(r), tok.endId]);
      // the reply's tokens start at prefix.length; logprob i scores token i + 1
      return sequenceLogprobs(model, seqs).map((lp) => lp.slice(prefix.length - 1).reduce((x, y) => x + y, 0));
    },
  };
}

/** How many alternatives an endpoint is asked for: OpenAI's most. */
const TOP = 20;

/**
 * An endpoint, through the client's cache, limiter and retries. Each reply's seed is derived from the chat's and the
 * sample's index, so a rerun asks the same requests (and hits the cache).
 */
export function endpointSampler(
  endpoint: OpenAIEndpoint,
  model: string,
  o: { logprobs: boolean; budget?: Budget },
): Sampler {
  const greedyFirstToken = async (messages: ChatMessage[]): Promise<TopLogprob[]> => {
    const r = await endpoint.chat(
      model,
      { messages, temperature: 0, topP: 1, maxTokens: 1, topLogprobs: TOP },
      0,
      o.budget,
    );
    return r.firstTokenTop ?? [];
  };
  return {
    async replies(chats, k, s, onProgress) {
      const total = chats.length * k;
      let done = 0;
      return Promise.all(
        chats.flatMap((messages, qi) =>
          Array.from({ length: k }, async (_, j) => {
            const seed = deriveSeed(s.seed, 'eval', qi, j) % 2 ** 31;
            const request = { messages, temperature: s.temperature, topP: 1, maxTokens: s.maxTokens, seed };
            const r = await endpoint.chat(model, request, j, o.budget);
            onProgress?.(++done, total);
            return r.text;
          }),
        ),
      );
    },
    async firstTokenTop(chats) {
      return o.logprobs ? Promise.all(chats.map(greedyFirstToken)) : undefined;
    },
    async replyLogprobs() {
      return undefined; // chat endpoints score only the tokens they sample
    },
  };
}
