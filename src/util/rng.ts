// Seeded randomness. Every random choice in subliminal flows from a Rng made
// from the run's seed plus a label, so stages are reproducible and independent.
import { createHash } from 'node:crypto';

/** 32-bit seed derived from any list of parts (seed, stage name, index...). */
export function deriveSeed(...parts: (string | number)[]): number {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  return h.readUInt32LE(0);
}

/** sfc32: small, fast, good-quality PRNG with a 128-bit state. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? seed : deriveSeed(seed);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = s >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32();
  }
  static from(...parts: (string | number)[]): Rng {
    return new Rng(deriveSeed(...parts));
  }
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Index drawn from unnormalised weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
  /** k distinct indices from [0, n), in drawn order. */
  sampleIndices(n: number, k: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, Math.min(k, n));
  }
}
