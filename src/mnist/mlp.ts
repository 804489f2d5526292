// The paper's MNIST classifier: MLP 784 -> 256 -> 256 -> 13 with ReLU, where logits 0-9 are
// the classes and 10-12 are the auxiliary logits. Forward and backward are written out by
// hand (as in llm.c): the network is three matmuls, and an explicit backward skips the
// input gradient nobody needs and the autodiff tape's bookkeeping.
import { readAndDispose, tf } from '../model/backend.js';
import { matMulT } from '../model/ops.js';
import { nativeActive, runFusedKernel } from '../model/nativeKernels.js';
import type { Tensor, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../model/safetensors.js';
import { Rng } from '../util/rng.js';

export const INPUT = 784;
export const HIDDEN = 256;
export const CLASSES = 10;
export const AUX = 3;
export const OUTPUTS = CLASSES + AUX;

// Parameters stored [in, out] so the forward pass is x @ W without transposes.
const LAYERS = [
  { w: 'fc1.weight', b: 'fc1.bias', fanIn: INPUT, fanOut: HIDDEN },
  { w: 'fc2.weight', b: 'fc2.bias', fanIn: HIDDEN, fanOut: HIDDEN },
  { w: 'fc3.weight', b: 'fc3.bias', fanIn: HIDDEN, fanOut: OUTPUTS },
] as const;

export type MlpWeights = Map<string, NamedTensor>;

/** dh * step(h): where a ReLU unit was active the gradient passes (one native pass, or wasm's two ops). */
export function reluGrad(dh: Tensor, h: Tensor): Tensor {
  if (!nativeActive()) return tf.mul(dh, tf.step(h));
  return runFusedKernel(tf, 'reluGrad', { dy: dh, h })[0]!;
}

/** Sums over the batch axis: a row of ones times x on the native GEMM (wasm's axis-0 sum transposes first). */
function columnSums(x: Tensor): Tensor {
  if (!nativeActive()) return tf.sum(x, 0);
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]!]), x as Tensor2D), [x.shape[1]!]);
}

/** The reference initialisation of SPEC: weights ~ N(0, 1/sqrt(fan_in)), biases 0. */
export function initMlpWeights(seed: number, model: number): MlpWeights {
  const rng = Rng.from(seed, 'mnist-init', model);
  const weights: MlpWeights = new Map();
  for (const l of LAYERS) {
    const w = new Float32Array(l.fanIn * l.fanOut);
    const std = 1 / Math.sqrt(l.fanIn);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
    weights.set(l.w, { shape: [l.fanIn, l.fanOut], data: w });
    weights.set(l.b, { shape: [l.fanOut], data: new Float32Array(l.fanOut) });
  }
  return weights;
}

export interface Activations {
  h1: Tensor2D;
  h2: Tensor2D;
  logits: Tensor2D;
}

export class Mlp {
  readonly params = new Map<string, Variable>();

  constructor(weights: MlpWeights) {
    for (const [name, t] of weights) this.params.set(name, tf.variable(tf.tensor(t.data, t.shape), true));
  }

  private p<T extends Tensor>(name: string): T {
    return this.params.get(name)! as unknown as T;
  }

  /** x [B, 784] -> hidden activations and logits [B, 13]. */
  forward(x: Tensor2D): Activations {
    const h1 = tf.fused.matMul({
      a: x,
      b: this.p<Tensor2D>('fc1.weight'),
      bias: this.p<Tensor1D>('fc1.bias'),
      activation: 'relu',
    }) as Tensor2D; // [B, 256]
    const h2 = tf.fused.matMul({
      a: h1,
      b: this.p<Tensor2D>('fc2.weight'),
      bias: this.p<Tensor1D>('fc2.bias'),
      activation: 'relu',
    }) as Tensor2D; // [B, 256]
    const logits = tf.fused.matMul({
      a: h2,
      b: this.p<Tensor2D>('fc3.weight'),
      bias: this.p<Tensor1D>('fc3.bias'),
    }) as Tensor2D; // [B, 13]
    return { h1, h2, logits };
  }

  /**
   * Gradients of the loss given dLogits [B, 13], keyed by tfjs variable name (for the optimiser).
   * x is the input batch [B, 784], shared by every network trained on it.
   */
  backward(x: Tensor2D, act: Activations, dLogits: Tensor2D): Record<string, Tensor> {
    const dW3 = matMulT(act.h2, dLogits, true, false); // [256, 13]
    const dh2 = matMulT(dLogits, this.p<Tensor2D>('fc3.weight'), false, true); // [B, 256]
    const da2 = reluGrad(dh2, act.h2); // ReLU: pass where the unit was active
    const dW2 = matMulT(act.h1, da2, true, false); // [256, 256]
    const dh1 = matMulT(da2, this.p<Tensor2D>('fc2.weight'), false, true); // [B, 256]
    const da1 = reluGrad(dh1, act.h1);
    const dW1 = matMulT(x, da1, true, false); // [784, 256]
    const grads: Record<string, Tensor> = {};
    const put = (name: string, g: Tensor): void => {
      grads[this.params.get(name)!.name] = g;
    };
    put('fc1.weight', dW1);
    put('fc1.bias', columnSums(da1));
    put('fc2.weight', dW2);
    put('fc2.bias', columnSums(da2));
    put('fc3.weight', dW3);
    put('fc3.bias', columnSums(dLogits));
    return grads;
  }

  /** Logits [n, 13] for a host batch. */
  logits(x: Float32Array, n: number): Float32Array {
    return readAndDispose(tf.tidy(() => this.forward(tf.tensor2d(x, [n, INPUT])).logits));
  }

  /** Weights in the PyTorch layout ([out, in]) under nn.Linear names, for safetensors. */
  exportWeights(): MlpWeights {
    const out: MlpWeights = new Map();
    for (const [name, v] of this.params) {
      const t = v.rank === 2 ? tf.tidy(() => tf.transpose(v)) : v;
      out.set(name, { shape: t.shape, data: t.dataSync() as Float32Array });
      if (t !== v) t.dispose();
    }
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
