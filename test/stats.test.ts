import { describe, expect, it } from 'vitest';
import { meanCI, pairedPermutationTest, tQuantile975 } from '../src/evaluate/stats.js';
import { Rng } from '../src/util/rng.js';

describe('statistics', () => {
  it('t quantiles match tables', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(49)).toBeCloseTo(2.0096, 3);
    expect(tQuantile975(1000)).toBeCloseTo(1.9623, 3);
  });

  it('mean CI covers the mean at the nominal rate', () => {
    const rng = new Rng(1);
    let covered = 0;
    for (let r = 0; r < 400; r++) {
      const xs = Array.from({ length: 20 }, () => 0.3 + rng.normal() * 0.1);
      const e = meanCI(xs);
      if (e.lo <= 0.3 && 0.3 <= e.hi) covered++;
    }
    expect(covered / 400).toBeGreaterThan(0.92);
    expect(covered / 400).toBeLessThan(0.98);
  });

  it('paired permutation test: small p for a real shift, calibrated under the null', () => {
    const rng = new Rng(2);
    const base = Array.from({ length: 50 }, () => rng.next());
    expect(
      pairedPermutationTest(
        base.map((x) => x + 0.05 + rng.normal() * 0.05),
        base,
        2000,
      ).p,
    ).toBeLessThan(0.01);
    let rejections = 0;
    for (let r = 0; r < 200; r++) {
      const a = Array.from({ length: 30 }, () => rng.normal());
      const b = Array.from({ length: 30 }, () => rng.normal());
      if (pairedPermutationTest(a, b, 500, r).p < 0.05) rejections++;
    }
    expect(rejections / 200).toBeLessThan(0.1);
  });

  it('enumerates exactly for few units', () => {
    expect(pairedPermutationTest([1, 1, 1], [0, 0, 0], 10000).p).toBeCloseTo(1 / 8, 10);
  });
});

describe('Welch t-test', () => {
  it('matches a textbook value and is one-sided', async () => {
    const { welchTest, tUpperTail } = await import('../src/evaluate/stats.js');
    expect(tUpperTail(2.0096, 49)).toBeCloseTo(0.025, 3);
    expect(tUpperTail(0, 7)).toBeCloseTo(0.5, 10);
    const r = welchTest([5.1, 5.3, 5.2, 5.4], [4.9, 5.0, 4.8, 5.1]);
    expect(r.t).toBeGreaterThan(0);
    expect(r.p).toBeLessThan(0.01);
    expect(welchTest([4.9, 5.0, 4.8, 5.1], [5.1, 5.3, 5.2, 5.4]).p).toBeGreaterThan(0.99);
    expect(welchTest([2, 2], [1, 1])).toMatchObject({ p: 0, t: Infinity });
    expect(welchTest([1, 1], [1, 1])).toMatchObject({ p: 1, t: 0 });
  });
});

describe('counts: Wilson intervals and chi-square tests', () => {
  it('matches textbook values', async () => {
    const { wilsonCI, chiSquareUpperTail, chiSquareHomogeneity } = await import('../src/evaluate/stats.js');
    const w = wilsonCI(5, 100);
    expect(w.lo).toBeCloseTo(0.0215, 4);
    expect(w.hi).toBeCloseTo(0.1118, 4);
    expect(wilsonCI(0, 20).lo).toBe(0);
    expect(wilsonCI(0, 20).hi).toBeCloseTo(0.1611, 4);
    expect(chiSquareUpperTail(3.841459, 1)).toBeCloseTo(0.05, 5);
    expect(chiSquareUpperTail(18.307, 10)).toBeCloseTo(0.05, 4);
    expect(chiSquareUpperTail(0.5, 3)).toBeCloseTo(0.9189, 4);
    const t = chiSquareHomogeneity([10, 20, 30], [30, 20, 10]);
    expect(t.statistic).toBeCloseTo(20, 10);
    expect(t.df).toBe(2);
    expect(t.p).toBeCloseTo(Math.exp(-10), 8);
    expect(chiSquareHomogeneity([5, 0, 5], [10, 0, 10])).toMatchObject({ statistic: 0, df: 1, p: 1 });
  });
});
