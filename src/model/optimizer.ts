// AdamW with global-norm clipping; its state can be saved and restored so that a resumed
// training run continues bit for bit where it was cut off.
import { tf } from './backend.js';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { nativeAdamStep } from './nativeKernels.js';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipNorm: number;
}
export const DEFAULT_ADAMW: AdamWSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 1.0 };

export class AdamW {
  step = 0;
  readonly m = new Map<string, Variable>();
  readonly v = new Map<string, Variable>();
  constructor(
    private readonly params: Map<string, Variable>,
    private readonly s: AdamWSettings = DEFAULT_ADAMW,
    private readonly frozen: ReadonlySet<string> = new Set(),
  ) {
    for (const [name, p] of params) {
      if (frozen.has(name)) continue;
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  trainable(): Variable[] {
    return [...this.params].filter(([n]) => !this.frozen.has(n)).map(([, p]) => p);
  }

  /**
   * Applies one update (grads keyed by tfjs variable name); returns the global norm before clipping (NaN when not
   * clipping).
   */
  apply(grads: Record<string, Tensor>, lr: number): number {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.s;
    // The norm costs a sync per step, so it is computed only when clipping needs it.
    const norm =
      clipNorm > 0
        ? tf.tidy(() => Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!))
        : NaN;
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const c1 = 1 - Math.pow(beta1, this.step);
    const c2 = 1 - Math.pow(beta2, this.step);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads[p.name];
        if (!g0 || this.frozen.has(name)) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const decay = weightDecay > 0 && !name.endsWith('norm.weight') ? weightDecay : 0;
        const fused = nativeAdamStep(tf, g0, m, v, p, [beta1, beta2, c1, c2, eps, lr, decay, scale]);
        if (fused) {
          m.assign(fused[0]!);
          v.assign(fused[1]!);
          p.assign(fused[2]!);
          continue;
        }
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        if (decay > 0) update = tf.add(update, tf.mul(p, decay));
        p.assign(tf.sub(p, tf.mul(update, lr)));
      }
    });
    return norm;
  }

  /** Moments as named arrays, for a resumable checkpoint. */
  exportState(): { step: number; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, t] of this.m) tensors.set(`m.${n}`, { shape: t.shape, data: t.dataSync() as Float32Array });
    for (const [n, t] of this.v) tensors.set(`v.${n}`, { shape: t.shape, data: t.dataSync() as Float32Array });
    return { step: this.step, tensors };
  }

  importState(step: number, tensors: Map<string, { shape: number[]; data: Float32Array }>): void {
    this.step = step;
    for (const [n, t] of this.m) t.assign(tf.tensor(tensors.get(`m.${n}`)!.data, t.shape));
    for (const [n, t] of this.v) t.assign(tf.tensor(tensors.get(`v.${n}`)!.data, t.shape));
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Linear warm-up then linear decay to zero (the schedule of SPEC's LoRA students). */
export function linearSchedule(peak: number, warmup: number, total: number): (step: number) => number {
  return (step) =>
    step < warmup ? (peak * (step + 1)) / warmup : peak * Math.max(0, (total - step) / Math.max(1, total - warmup));
}
