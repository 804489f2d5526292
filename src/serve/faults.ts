// Test-only fault injection, to prove clients survive a flaky endpoint: random 429s with
// retry-after, 500s, dropped connections and slow responses, drawn from a seeded stream.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Rng } from '../util/rng.js';
import { ApiError } from './errors.js';

export interface FaultSettings {
  rate429: number;
  rate500: number;
  dropRate: number;
  slowRate: number;
  slowMs: number;
  retryAfterSeconds: number;
  seed: number;
  /** the first this-many fine-tuning jobs fail partway (a provider's failed job, for recovery tests) */
  failJobs?: number;
}

/** Parses "429=0.1,500=0.05,drop=0.02,slow=0.1,slowMs=200,retryAfter=0.05,seed=1". */
export function parseFaults(text: string): FaultSettings {
  const f: FaultSettings = {
    rate429: 0,
    rate500: 0,
    dropRate: 0,
    slowRate: 0,
    slowMs: 200,
    retryAfterSeconds: 0.05,
    seed: 1,
  };
  const keys: Record<string, keyof FaultSettings> = {
    429: 'rate429',
    500: 'rate500',
    drop: 'dropRate',
    slow: 'slowRate',
    slowMs: 'slowMs',
    retryAfter: 'retryAfterSeconds',
    seed: 'seed',
    failJobs: 'failJobs',
  };
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const key = keys[k ?? ''];
    const n = Number(v);
    if (!key || !Number.isFinite(n) || n < 0)
      throw new Error(`bad fault setting "${part}" (known: ${Object.keys(keys).join(', ')})`);
    f[key] = n;
  }
  return f;
}

export function faultInjector(f: FaultSettings): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const rng = new Rng(f.seed);
  return async (req, reply) => {
    if (!req.url.startsWith('/v1/chat/') && !req.url.startsWith('/v1/completions')) return;
    const r = rng.next();
    if (r < f.rate429) {
      // retry-after is whole seconds (HTTP); retry-after-ms carries a sub-second wait exactly
      void reply.header('retry-after', String(Math.ceil(f.retryAfterSeconds)));
      void reply.header('retry-after-ms', String(Math.round(f.retryAfterSeconds * 1000)));
      throw new ApiError(429, 'rate limited (injected fault)', null, 'rate_limit_exceeded', 'rate_limit_error');
    }
    if (r < f.rate429 + f.rate500) throw new ApiError(500, 'injected server error');
    if (r < f.rate429 + f.rate500 + f.dropRate) {
      req.raw.socket.destroy();
      return;
    }
    if (r < f.rate429 + f.rate500 + f.dropRate + f.slowRate) await new Promise((res) => setTimeout(res, f.slowMs));
  };
}
