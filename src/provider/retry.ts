// Retries for flaky endpoints: exponential backoff with full jitter, honouring the server's
// retry-after (seconds or HTTP date) or retry-after-ms on 429 and 5xx, and retrying dropped
// connections and timeouts. Anything else (400, 401, 404...) fails at once.
import { APIConnectionError } from 'openai';
import { Rng } from '../util/rng.js';

export interface RetrySettings {
  maxRetries: number;
  baseMs: number;
  /** the longest of our own backoff waits */
  maxMs: number;
  /** the longest server-requested wait we honour (retry-after of a minute or more is common on 429) */
  maxRetryAfterMs?: number;
  /** multiplies every wait: 1 in use; tests shrink a minute-long retry-after to milliseconds */
  timeScale?: number;
}
/** The longest server-requested wait honoured unless a setting says otherwise: 10 minutes. */
export const MAX_RETRY_AFTER_MS = 600_000;
export const DEFAULT_RETRY: RetrySettings = { maxRetries: 8, baseMs: 250, maxMs: 20_000 };

interface HttpishError {
  status?: number;
  headers?: Headers | Record<string, string | undefined>;
  code?: string;
  name?: string;
}

const header = (e: HttpishError, name: string): string | undefined => {
  const h = e.headers;
  if (!h) return undefined;
  return typeof (h as Headers).get === 'function'
    ? ((h as Headers).get(name) ?? undefined)
    : (h as Record<string, string | undefined>)[name];
};

/** Milliseconds the server asked us to wait, if it did. */
export function retryAfterMs(e: HttpishError, nowMs = Date.now()): number | undefined {
  const ms = header(e, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms))) return Number(ms);
  const ra = header(e, 'retry-after');
  if (ra === undefined) return undefined;
  if (Number.isFinite(Number(ra))) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

export function isRetryable(e: unknown): boolean {
  const err = e as HttpishError;
  if (typeof err?.status === 'number')
    return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
  // no status: the connection dropped or timed out before a response
  if (e instanceof APIConnectionError) return true; // includes APIConnectionTimeoutError
  return (
    ['APIConnectionError', 'APIConnectionTimeoutError', 'AbortError', 'FetchError'].includes(err?.name ?? '') ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET'].includes(err?.code ?? '')
  );
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  s: RetrySettings,
  rng: Rng,
  onRetry?: (attempt: number, waitMs: number, e: unknown) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= s.maxRetries || !isRetryable(e)) throw e;
      const backoff = rng.next() * Math.min(s.maxMs, s.baseMs * 2 ** attempt);
      // the server's retry-after is honoured in full (up to maxRetryAfterMs), not cut to our backoff cap
      const asked = Math.min(s.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS, retryAfterMs(e as HttpishError) ?? 0);
      const wait = Math.max(backoff, asked) * (s.timeScale ?? 1);
      onRetry?.(attempt + 1, wait, e);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
