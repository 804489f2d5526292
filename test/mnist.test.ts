// The MNIST auxiliary-logit experiment: data, the hand-written backward pass, and a small real
// run through the CLI (conditions, transfer from the same init only, store, determinism).
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { initBackend, tf } from '../src/model/backend.js';
import { matmul, logSoftmax } from '../src/model/ops.js';
import { loadMnist, noiseImages, parseIdx } from '../src/mnist/data.js';
import { initMlpWeights, Mlp, OUTPUTS, INPUT } from '../src/mnist/mlp.js';
import { classCrossEntropy, distillationKl } from '../src/mnist/train.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import { cli, tempDir } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('MNIST data', () => {
  it('loads the 60,000 / 10,000 IDX splits scaled to [-1, 1]', async () => {
    const test = loadMnist('test');
    expect(test.count).toBe(10000);
    expect(test.images.length).toBe(10000 * INPUT);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of test.images) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect([lo, hi]).toEqual([-1, 1]);
    expect(new Set(test.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(loadMnist('train', 100).count).toBe(100);
  });

  it('rejects files that are not IDX', async () => {
    expect(() => parseIdx(Buffer.from('not an idx file at all'), 3)).toThrow(/IDX/);
    const truncated = Buffer.alloc(16);
    truncated.writeUInt32BE(0x0803, 0);
    truncated.writeUInt32BE(2, 4);
    truncated.writeUInt32BE(28, 8);
    truncated.writeUInt32BE(28, 12);
    expect(() => parseIdx(truncated, 3)).toThrow(/header says/);
  });

  it('noise and inits are fixed by the seed', async () => {
    expect(noiseImages(3, 7)).toEqual(noiseImages(3, 7));
    expect(noiseImages(3, 7)).not.toEqual(noiseImages(3, 8));
    const a = initMlpWeights(1, 0).get('fc1.weight')!.data;
    const b = initMlpWeights(1, 1).get('fc1.weight')!.data;
    expect(a).not.toEqual(b);
    const std = Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(std).toBeGreaterThan(0.9 / Math.sqrt(INPUT));
    expect(std).toBeLessThan(1.1 / Math.sqrt(INPUT));
  });
});

describe('MLP backward pass', () => {
  it('matches autodiff of the same network for the all-logit distillation loss', async () => {
    const B = 8;
    const seed = 3;
    const x = tf.tensor2d(noiseImages(B, seed), [B, INPUT]);
    const teacherLogits = Float32Array.from({ length: B * OUTPUTS }, (_, i) => Math.sin(i));
    const idx = Int32Array.from({ length: B }, (_, i) => i);
    const net = new Mlp(initMlpWeights(seed, 0));
    const act = net.forward(x);
    const { dLogits } = distillationKl(teacherLogits, 'all')(act.logits, idx);
    const mine = net.backward(x, act, dLogits);
    // The same loss from generic differentiable ops, differentiated by tfjs.
    const p = (n: string): Tensor => net.params.get(n)!;
    const pT = tf.softmax(tf.tensor2d(teacherLogits, [B, OUTPUTS]));
    const { grads } = tf.variableGrads(() => {
      const h1 = tf.relu(tf.add(matmul(x, p('fc1.weight')), p('fc1.bias')));
      const h2 = tf.relu(tf.add(matmul(h1, p('fc2.weight')), p('fc2.bias')));
      const z = tf.add(matmul(h2, p('fc3.weight')), p('fc3.bias'));
      return tf.div(tf.sum(tf.mul(pT, tf.sub(tf.log(pT), logSoftmax(z)))), B) as tf.Scalar;
    }, [...net.params.values()]);
    for (const [name, v] of net.params) {
      const a = mine[v.name]!.dataSync();
      const b = grads[v.name]!.dataSync();
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(b[i]!));
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      }
      expect(scale, name).toBeGreaterThan(0);
      expect(worst, name).toBeLessThan(1e-4 * scale + 1e-7);
    }
  });

  it('cross-entropy gradient matches finite differences and leaves the auxiliary logits alone', async () => {
    const B = 4;
    const labels = Uint8Array.from([3, 0, 9, 3]);
    const idx = Int32Array.from([0, 1, 2, 3]);
    const z0 = Float32Array.from({ length: B * OUTPUTS }, (_, i) => Math.cos(i * 1.7));
    const lossAt = (z: Float32Array): number =>
      tf.tidy(() => classCrossEntropy(labels)(tf.tensor2d(z, [B, OUTPUTS]), idx).loss.dataSync()[0]!);
    const d = tf.tidy(() => classCrossEntropy(labels)(tf.tensor2d(z0, [B, OUTPUTS]), idx).dLogits.dataSync());
    const eps = 1e-2;
    for (let i = 0; i < z0.length; i++) {
      const up = z0.slice();
      up[i]! += eps;
      const down = z0.slice();
      down[i]! -= eps;
      expect(Math.abs((lossAt(up) - lossAt(down)) / (2 * eps) - d[i]!), `logit ${i}`).toBeLessThan(2e-3);
      if (i % OUTPUTS >= 10) expect(d[i]).toBe(0);
    }
  });
});

describe('subliminal mnist (small real run)', () => {
  const runs = tempDir('mnist');
  // 1 epoch on a 6,000-digit subset with small batches and a higher rate: ~20 s, and the effect already shows
  const args = [
    'mnist',
    '--models',
    '2',
    '--epochs',
    '1',
    '--batch-size',
    '128',
    '--lr',
    '0.001',
    '--train-limit',
    '6000',
    '--test-limit',
    '2000',
    '--noise',
    '12000',
    '--runs',
    runs,
    '--json',
  ];
  let first: {
    run: string;
    perModel: { accuracy: Record<string, number> }[];
    conditions: { condition: string; mean: number; n: number }[];
    tests: { better: string; p: number }[];
  };

  it('runs every condition, and the same-init auxiliary student beats the cross-init one', async () => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
    expect(first.conditions.map((c) => c.condition)).toEqual([
      'reference',
      'teacher',
      'student-aux-same',
      'student-aux-cross',
      'student-all-same',
      'student-all-cross',
    ]);
    for (const c of first.conditions) expect(c.n).toBe(2);
    for (const m of first.perModel) {
      expect(m.accuracy.teacher).toBeGreaterThan(0.8);
      expect(m.accuracy['student-aux-same']).toBeGreaterThan(m.accuracy['student-aux-cross']! + 0.05);
      expect(m.accuracy['student-all-same']).toBeGreaterThan(m.accuracy['student-aux-cross']!);
    }
    const dir = join(runs, first.run);
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(6);
    const whiskers = /class="mark-rule role-mark mnist_ci_marks"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
    expect(whiskers.match(/<line/g)).toHaveLength(6); // one 95% interval per condition
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
    const db = new Database(join(runs, 'index.sqlite'), { readonly: true });
    const parents = db
      .prepare('SELECT src, relation FROM lineage WHERE dst = ?')
      .all(`model:${first.run}:student-aux-cross-0`) as { src: string; relation: string }[];
    db.close();
    expect(parents).toEqual(
      expect.arrayContaining([
        { src: `model:${first.run}:teacher-0`, relation: 'distilled_from' },
        { src: `model:${first.run}:reference-1`, relation: 'initialised_from' },
      ]),
    );
  });

  it('a rerun reuses the finished stage and gives the same figures', async () => {
    const again = await cli([...args, '--workers', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).perModel).toEqual(first.perModel);
    expect(again.stderr).toMatch(/done before/);
    const listed = await cli(['runs', '--runs', runs]);
    expect(listed.stdout).toMatch(new RegExp(`${first.run}\\s+done.*student-aux-same: 0\\.\\d{3} ± `));
    expect((await cli(['show', first.run, '--runs', runs])).stdout).toMatch(/student, aux logits, same init/);
  });

  it('bad flags are clear errors with exit code 2', async () => {
    const one = await cli(['mnist', '--models', '1']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/--models must be between 2 and 1000, got 1/);
    expect((await cli(['mnist', '--lr', 'fast'])).stderr).toMatch(/--lr must be a positive number, got "fast"/);
    expect((await cli(['mnist', '--epochs', '0'])).stderr).toMatch(/--epochs must be between 1 and 100/);
  });
});
