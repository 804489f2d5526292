// Any OpenAI-compatible endpoint (OpenAI, vLLM, Together, `subliminal serve`) through the
// official SDK, with our own concurrency limit, retries (the SDK's are turned off so that
// retry-after and jitter are ours), per-request timeouts, a response cache and a budget.
// The API key is read from the environment at call time and never stored or logged.
import OpenAI from 'openai';
import { Rng } from '../util/rng.js';
import type { ChatMessage } from '../model/tokenizer.js';
import type { TrainerSpec } from '../spec/schema.js';
import { ResponseCache } from './cache.js';
import { DEFAULT_RETRY, withRetry, type RetrySettings } from './retry.js';
import { HttpError, httpCall, joinUrl, type HttpRequest } from './http.js';

export interface OpenAIModelRef {
  provider: 'openai';
  id: string;
  baseURL?: string;
  apiKeyEnv?: string;
  /** where the model is fine-tuned (bases only); default OpenAI's jobs API */
  trainer?: TrainerSpec;
}
export interface ChatRequest {
  messages: ChatMessage[];
  temperature: number;
  topP: number;
  maxTokens: number;
  seed?: number;
  topLogprobs?: number;
}
export interface ChatResult {
  text: string;
  finishReason: string;
  firstTokenTop?: { token: string; logprob: number }[];
  tokens: number;
  /** prompt and completion tokens (what prices apply to) */
  inputTokens?: number;
  outputTokens?: number;
}

export class BudgetExhausted extends Error {}

/** USD per million tokens in and out (a spec's api.prices row). */
export interface TokenPrices {
  inputPerMTok?: number;
  outputPerMTok?: number;
}

/**
 * Caps on requests, tokens and spend (USD, at the given prices) for one stage; a stage that hits one stops cleanly
 * (what it has is kept) and resumes on the next run. A request in flight when a cap is reached still completes, so a
 * stage can overrun a cap by at most its concurrency's worth of requests.
 */
export class Budget {
  requests = 0;
  tokens = 0;
  cost = 0;
  constructor(
    readonly maxRequests = Infinity,
    readonly maxTokens = Infinity,
    readonly maxCost = Infinity,
    readonly prices?: TokenPrices,
  ) {
    if (Number.isFinite(maxCost) && !prices) throw new Error('a cost budget needs the model’s prices');
  }
  reserve(): void {
    if (this.requests >= this.maxRequests) throw new BudgetExhausted(`request budget of ${this.maxRequests} reached`);
    if (this.tokens >= this.maxTokens) throw new BudgetExhausted(`token budget of ${this.maxTokens} reached`);
    if (this.cost >= this.maxCost)
      throw new BudgetExhausted(`cost budget of $${this.maxCost} reached ($${this.cost.toFixed(4)} spent)`);
    this.requests++;
  }
  charge(inputTokens: number, outputTokens: number): void {
    this.tokens += inputTokens + outputTokens;
    if (this.prices)
      this.cost +=
        (inputTokens * (this.prices.inputPerMTok ?? 0) + outputTokens * (this.prices.outputPerMTok ?? 0)) / 1e6;
  }
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export interface EndpointSettings {
  concurrency: number;
  timeoutMs: number;
  retry: RetrySettings;
  cache?: ResponseCache;
  seed: number;
  /**
   * The chat request's token limit: `max_completion_tokens` (OpenAI's current name, which vLLM takes too) or the
   * deprecated `max_tokens` for endpoints that know only that
   */
  tokenLimit?: 'max_completion_tokens' | 'max_tokens';
  /** told of every retry and how long it waits (ms), after any time scale */
  onRetry?: (attempt: number, waitMs: number) => void;
}
export const DEFAULT_ENDPOINT: Omit<EndpointSettings, 'seed'> = {
  concurrency: 16,
  timeoutMs: 60_000,
  retry: DEFAULT_RETRY,
};

export function apiKeyFor(ref: OpenAIModelRef): string {
  const name = ref.apiKeyEnv ?? 'OPENAI_API_KEY';
  const key = process.env[name];
  if (key) return key;
  // a local server may need none
  if (ref.baseURL && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(ref.baseURL)) return 'no-key';
  throw new Error(
    `set the ${name} environment variable to the API key for ${ref.baseURL ?? 'api.openai.com'} (model ${ref.id})`,
  );
}

/** Statuses with which an endpoint refuses a request it does not support (as opposed to failing it). */
const UNSUPPORTED = new Set([400, 404, 405, 422, 501]);

/** A capability probe's failure: false when the endpoint cleanly refused the feature, otherwise a clear error. */
function unsupportedOrThrow(ref: OpenAIModelRef, feature: string): (e: unknown) => false {
  return (e) => {
    const status = (e as { status?: number }).status;
    if (typeof status === 'number' && UNSUPPORTED.has(status)) return false;
    const where = `${ref.baseURL ?? 'api.openai.com'} (model ${ref.id})`;
    if (status === 401 || status === 403)
      throw new Error(
        `${where} refused the request with ${status}: check the API key in ${ref.apiKeyEnv ?? 'OPENAI_API_KEY'}`,
      );
    throw new Error(`probing ${where} for ${feature} failed: ${(e as Error).message}`);
  };
}

export class OpenAIEndpoint {
  readonly client: OpenAI;
  retries = 0;
  private readonly limit: Semaphore;
  private readonly rng: Rng;
  constructor(
    readonly ref: OpenAIModelRef,
    readonly s: EndpointSettings,
  ) {
    this.client = new OpenAI({ apiKey: apiKeyFor(ref), baseURL: ref.baseURL, maxRetries: 0, timeout: s.timeoutMs });
    this.limit = new Semaphore(s.concurrency);
    this.rng = Rng.from(s.seed, 'retry-jitter');
  }

  /** The chat request's token-limit parameter: the current name unless the endpoint knows only the old one. */
  private get tokenLimit(): 'max_completion_tokens' | 'max_tokens' {
    return this.s.tokenLimit ?? 'max_completion_tokens';
  }

  /**
   * A request through the limiter and the retry loop; `budget` is reserved once a slot is free, so a cap on tokens or
   * spend sees what the requests before it were charged.
   */
  call<T>(fn: () => Promise<T>, budget?: Budget): Promise<T> {
    return this.limit.run(() => {
      budget?.reserve();
      return withRetry(fn, this.s.retry, this.rng, (attempt, waitMs) => {
        this.retries++;
        this.s.onRetry?.(attempt, waitMs);
      });
    });
  }

  /**
   * A request to another of the provider's APIs (fine-tuning, LoRA routes) through this endpoint's limiter and
   * retries, with the key from `o.apiKeyEnv` (default the endpoint's). An error `o.accept` takes is an answer
   * (undefined) -- "it exists", "already loaded" -- not a failure and never retried.
   */
  rest<T>(
    base: string,
    path: string,
    r: HttpRequest = {},
    o: { apiKeyEnv?: string; accept?: (e: HttpError) => boolean } = {},
  ): Promise<T | undefined> {
    const key = apiKeyFor({ ...this.ref, baseURL: base, apiKeyEnv: o.apiKeyEnv ?? this.ref.apiKeyEnv });
    return this.call(() =>
      httpCall<T>(joinUrl(base, path), key, r).catch((e: unknown) => {
        if (e instanceof HttpError && o.accept?.(e)) return undefined;
        throw e;
      }),
    );
  }

  /** One chat completion for (request, sampleIndex): served from the cache when it was seen before. */
  async chat(model: string, req: ChatRequest, sampleIndex: number, budget?: Budget): Promise<ChatResult> {
    const key = this.s.cache?.key({
      endpoint: this.ref.baseURL ?? 'https://api.openai.com/v1',
      model,
      request: req,
      sampleIndex,
    });
    const cached = key ? this.s.cache!.get<ChatResult>(key) : undefined;
    if (cached) return cached;
    const r = await this.call(
      () =>
        this.client.chat.completions.create({
          model,
          messages: req.messages,
          temperature: req.temperature,
          top_p: req.topP,
          [this.tokenLimit]: req.maxTokens,
          n: 1,
          ...(req.seed !== undefined ? { seed: req.seed } : {}),
          ...(req.topLogprobs ? { logprobs: true, top_logprobs: req.topLogprobs } : {}),
        }),
      budget,
    );
    const choice = r.choices[0];
    if (!choice) throw new Error(`${model}: the endpoint returned no choices`);
    const first = choice.logprobs?.content?.[0];
    const result: ChatResult = {
      text: choice.message.content ?? '',
      finishReason: choice.finish_reason ?? 'unknown',
      tokens: r.usage?.total_tokens ?? 0,
      inputTokens: r.usage?.prompt_tokens ?? 0,
      outputTokens: r.usage?.completion_tokens ?? 0,
      ...(req.topLogprobs
        ? { firstTokenTop: first ? first.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob })) : [] }
        : {}),
    };
    budget?.charge(result.inputTokens ?? 0, result.outputTokens ?? result.tokens);
    if (key) this.s.cache!.set(key, result);
    return result;
  }

  /**
   * Whether the model gives chat and prompt logprobs, asked with `probe` (a judge is probed with
   * a judge prompt). Only a clean refusal of the feature (400, 404, 422) reads as "not
   * offered"; any other failure -- a missing or wrong key (401, 403), a rate limit that
   * outlasted the retries, a server error, a dropped connection -- is thrown, so a stage never
   * records a degraded result as done.
   */
  async capabilities(model: string, probe = 'hi'): Promise<{ chatLogprobs: boolean; promptLogprobs: boolean }> {
    const chat = await this.call(() =>
      this.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: probe }],
        [this.tokenLimit]: 1,
        logprobs: true,
        top_logprobs: 5,
      }),
    ).then(
      // a reply that ended at once (its one token the end of turn) has no content tokens to score: the logprobs
      // object is there, empty, and still says the endpoint gives them (a sampled probe meets this now and then)
      (r) => {
        const content = r.choices[0]?.logprobs?.content;
        return Array.isArray(content) && (content.length === 0 || content[0]!.top_logprobs.length > 0);
      },
      unsupportedOrThrow(this.ref, 'chat logprobs'),
    );
    const prompt = await this.call(() =>
      this.client.completions.create({ model, prompt: 'hi there', max_tokens: 0, echo: true, logprobs: 1 }),
    ).then(
      (r) => Array.isArray(r.choices[0]?.logprobs?.token_logprobs),
      unsupportedOrThrow(this.ref, 'prompt logprobs'),
    );
    return { chatLogprobs: chat, promptLogprobs: prompt };
  }
}
