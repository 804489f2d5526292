// Differentiable building blocks with gradients written for the wasm backend:
// matMul gradients use explicit transposes on wasm alone (its transposeA/B paths are ~10x
// slower) and transposed operands on the native GEMM (which reads them at full speed),
// and row gathers scatter-add their gradient in JS (wasm lacks UnsortedSegmentSum).
import { tf } from './backend.js';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { nativeActive } from './nativeKernels.js';

const swapLast = (t: Tensor): Tensor => {
  const r = t.rank; const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2; perm[r - 2] = r - 1;
  return tf.transpose(t, perm);
};

/** op(a) @ op(b): transposed operands go to the native GEMM as they are, or are transposed first on wasm alone. */
export function matMulT(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  if (nativeActive()) return tf.matMul(a as Tensor2D, b as Tensor2D, transposeA, transposeB);
  return tf.matMul((transposeA ? swapLast(a) : a) as Tensor2D, (transposeB ? swapLast(b) : b) as Tensor2D);
}

/** a @ b for rank-2 or batched rank-4 inputs. */
export const matmul = tf.customGrad(((a: Tensor, b: Tensor, save: (ts: Tensor[]) => void) => {
  save([a, b]);
  return {
    value: tf.matMul(a as Tensor2D, b as Tensor2D),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [matMulT(dy, sb, false, true), matMulT(sa, dy, true, false)];
    },
  };
}) as never) as (a: Tensor, b: Tensor) => Tensor;

/** Rows of x [rows, d] at `indices` -> [n, d]; gradient scatter-added in JS. */
export function gatherRows(x: Tensor2D, indices: Int32Array): Tensor2D {
  const [rows, d] = x.shape;
  const op = tf.customGrad(((input: Tensor) => ({
    value: tf.gather(input, tf.tensor1d(indices, 'int32')),
    gradFunc: (dy: Tensor) => {
      const g = dy.dataSync(); const out = new Float32Array(rows * d);
      for (let i = 0; i < indices.length; i++) {
        const dst = indices[i]! * d; const src = i * d;
        for (let j = 0; j < d; j++) out[dst + j]! += g[src + j]!;
      }
      return tf.tensor2d(out, [rows, d]);
    },
  })) as never) as (t: Tensor) => Tensor2D;
  return op(x);
}

/** log-softmax over the last axis; gradient dy - softmax(x) * sum(dy). */
export const logSoftmax = tf.customGrad(((x: Tensor, save: (ts: Tensor[]) => void) => {
  const y = tf.sub(x, tf.logSumExp(x, -1, true));
  save([y]);
  return {
    value: y,
    gradFunc: (dy: Tensor, saved: Tensor[]) => tf.sub(dy, tf.mul(tf.exp(saved[0]!), tf.sum(dy, -1, true))),
  };
}) as never) as (x: Tensor) => Tensor;

/** Mean cross-entropy of logits [n, V] against targets [n]. */
export function crossEntropy(logits: Tensor2D, targets: Int32Array): Tensor {
  const [n, v] = logits.shape;
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), v);
  return tf.div(tf.neg(tf.sum(tf.mul(oneHot, logSoftmax(logits)))), n);
}
