// On-disk response cache for API calls, keyed by endpoint, model, messages, sampling
// parameters and sample index. Only successful responses are stored (errors never are), one
// file per key, written atomically. Modes: use (read + write), refresh (write only), off.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashConfig } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic.js';

export type CacheMode = 'use' | 'refresh' | 'off';

export class ResponseCache {
  hits = 0;
  misses = 0;
  constructor(
    private readonly dir: string,
    readonly mode: CacheMode = 'use',
  ) {}

  key(parts: { endpoint: string; model: string; request: unknown; sampleIndex: number }): string {
    return hashConfig(parts);
  }
  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get<T>(key: string): T | undefined {
    if (this.mode !== 'use') return undefined;
    const p = this.path(key);
    if (!existsSync(p)) {
      this.misses++;
      return undefined;
    }
    try {
      const v = JSON.parse(readFileSync(p, 'utf8')) as T;
      this.hits++;
      return v;
    } catch {
      this.misses++;
      return undefined;
    }
  }

  set(key: string, value: unknown): void {
    if (this.mode !== 'off') writeFileAtomic(this.path(key), JSON.stringify(value));
  }
}
