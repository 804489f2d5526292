// Differentiable building blocks with gradients written for the wasm backend:
// matMul gradients use explicit transposes on wasm alone (its transposeA/B paths are ~10x
// slower) and transposed operands on the native GEMM (which reads them at full speed),
// and row gathers scatter-add their gradient in JS (wasm lacks UnsortedSegmentSum).
// With the native addon, RMSNorm, SwiGLU, rotary positions, the attention softmax, row
// gathers and cross-entropy each run as one fused kernel forward and one backward
// (native/fused.cc), causal self-attention over a whole sequence as one (native/attention.cc),
// and a @ b^T reads b untransposed; without it they are composed from tfjs ops, as written here.
import { tf } from './backend.js';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { nativeActive, runFusedKernel } from './nativeKernels.js';

const swapLast = (t: Tensor): Tensor => {
  const r = t.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(t, perm);
};

type Save = (ts: Tensor[]) => void;
interface WithGradient {
  value: Tensor;
  gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[];
}
/** tf.customGrad with types its declaration cannot state (tensors, then `save`); saved tensors reach gradFunc. */
function customOp(f: (a: Tensor, save: Save) => WithGradient): (a: Tensor) => Tensor;
function customOp(f: (a: Tensor, b: Tensor, save: Save) => WithGradient): (a: Tensor, b: Tensor) => Tensor;
function customOp(
  f: (a: Tensor, b: Tensor, c: Tensor, save: Save) => WithGradient,
): (a: Tensor, b: Tensor, c: Tensor) => Tensor;
function customOp(f: (...args: never[]) => WithGradient): unknown {
  return tf.customGrad(f as never);
}

/** op(a) @ op(b): transposed operands go to the native GEMM as they are, or are transposed first on wasm alone. */
export function matMulT(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  if (nativeActive()) return tf.matMul(a as Tensor2D, b as Tensor2D, transposeA, transposeB);
  return tf.matMul((transposeA ? swapLast(a) : a) as Tensor2D, (transposeB ? swapLast(b) : b) as Tensor2D);
}

/** a @ b for rank-2 or batched rank-4 inputs. */
export const matmul = customOp((a: Tensor, b: Tensor, save: Save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as Tensor2D, b as Tensor2D),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor, Tensor];
      return [matMulT(dy, sb, false, true), matMulT(sa, dy, true, false)];
    },
  };
});

/** a @ b^T for rank-2 or batched rank-4 inputs: the native GEMM reads b as it is; wasm alone transposes it first. */
export function matmulTransposedB(a: Tensor, b: Tensor): Tensor {
  if (!nativeActive()) return matmul(a, swapLast(b));
  return customOp((x: Tensor, y: Tensor, save: Save) => {
    save([x, y]);
    return {
      value: tf.matMul(x as Tensor2D, y as Tensor2D, false, true),
      gradFunc: (dy: Tensor, [sx, sy]: Tensor[]) => [
        tf.matMul(dy as Tensor2D, sy as Tensor2D),
        tf.matMul(dy as Tensor2D, sx as Tensor2D, true, false),
      ],
    };
  })(a, b);
}

/**
 * a @ b^T with b held fixed (a frozen tied head): the gradient reaches a alone, so b's gradient, as large as b,
 * is never computed. The value and a's gradient are matmulTransposedB's, on either path, to the bit.
 */
export function matmulTransposedFixedB(a: Tensor, b: Tensor): Tensor {
  return customOp((x: Tensor) => ({
    value: matMulT(x, b, false, true),
    gradFunc: (dy: Tensor) => tf.matMul(dy as Tensor2D, b as Tensor2D),
  }))(a);
}

/** Rows of x [rows, d] at `indices` -> [n, d]; gradient scatter-added (natively, or in JS). */
export function gatherRows(x: Tensor2D, indices: Int32Array): Tensor2D {
  const [rows, d] = x.shape;
  return customOp((input: Tensor, save: Save) => {
    const index = tf.tensor1d(indices, 'int32');
    if (nativeActive()) {
      save([index]); // tensors made in the forward pass are freed after it unless saved
      return {
        value: runFusedKernel(tf, 'gatherRows', { x: input, indices: index })[0]!,
        gradFunc: (dy: Tensor, [saved]: Tensor[]) =>
          runFusedKernel(tf, 'scatterAddRows', { dy, indices: saved }, { rows })[0]!,
      };
    }
    return {
      value: tf.gather(input, index),
      gradFunc: (dy: Tensor) => {
        const g = dy.dataSync();
        const out = new Float32Array(rows * d);
        for (let i = 0; i < indices.length; i++) {
          const dst = indices[i]! * d;
          const src = i * d;
          for (let j = 0; j < d; j++) out[dst + j]! += g[src + j]!;
        }
        return tf.tensor2d(out, [rows, d]);
      },
    };
  })(x) as Tensor2D;
}

/** x / rms(x) * w over the last axis of x [n, d]. */
export function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  if (!nativeActive()) return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
  return customOp((xi: Tensor, wi: Tensor, save: Save) => {
    const [y, rstd] = runFusedKernel(tf, 'rmsNorm', { x: xi, w: wi }, { eps });
    save([xi, wi, rstd!]);
    return {
      value: y!,
      gradFunc: (dy: Tensor, [sx, sw, sr]: Tensor[]) =>
        runFusedKernel(tf, 'rmsNormGrad', { dy, x: sx, w: sw, rstd: sr }),
    };
  })(x, w);
}

/** SwiGLU's gate: silu(gate) * up. */
export function swiGlu(gate: Tensor, up: Tensor): Tensor {
  if (!nativeActive()) return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
  return customOp((g: Tensor, u: Tensor, save: Save) => {
    save([g, u]);
    return {
      value: runFusedKernel(tf, 'swiGlu', { gate: g, up: u })[0]!,
      gradFunc: (dy: Tensor, [sg, su]: Tensor[]) => runFusedKernel(tf, 'swiGluGrad', { dy, gate: sg, up: su }),
    };
  })(gate, up);
}

/** Rotary tables for positions offset..offset+T-1: cos, sin [T, hd], and rot [hd, hd] with x @ rot = rotate_half(x). */
export interface RopeTables {
  cos: Tensor;
  sin: Tensor;
  rot: Tensor;
}
/** x [B, H, T, hd] rotated by position: x cos + rotate_half(x) sin. */
export function rope(x: Tensor, t: RopeTables): Tensor {
  const [B, H, T, hd] = x.shape as [number, number, number, number];
  if (!nativeActive())
    return tf.add(
      tf.mul(x, t.cos),
      tf.mul(tf.reshape(matmul(tf.reshape(x, [B * H * T, hd]), t.rot), [B, H, T, hd]), t.sin),
    );
  return nativeRope(x, t, [B * H, T, 1, hd]);
}

/** Rotary positions on the addon for x laid out [outer, T, inner, hd]. */
function nativeRope(x: Tensor, t: RopeTables, layout: number[]): Tensor {
  return customOp((xi: Tensor, save: Save) => {
    save([t.cos, t.sin]); // the tables are freed after the forward pass unless saved
    return {
      value: runFusedKernel(tf, 'rope', { x: xi, cos: t.cos, sin: t.sin }, { sign: 1, layout })[0]!,
      // the rotation's transpose
      gradFunc: (dy: Tensor, [cos, sin]: Tensor[]) =>
        runFusedKernel(tf, 'rope', { x: dy, cos, sin }, { sign: -1, layout })[0]!,
    };
  })(x);
}

/** Switch for the fused attention (tests and bench:profile run the composed path on the addon beside it). */
export const fusedAttention = { enabled: true };
/**
 * Whether causalSelfAttention can run T positions as one fused kernel: on the addon, heads of up
 * to 32 values (two vectors), and T within one depth block of its GEMM (so the fused sums and the
 * composed path's agree to the bit).
 */
export const fusedAttentionFits = (T: number, headSize: number): boolean =>
  fusedAttention.enabled && nativeActive() && T >= 4 && T <= 256 && headSize <= 32;

/**
 * Causal self-attention on the addon, for q, k, v [B*T, H*hd] as the projections give them
 * (heads inner): rotary positions on q and k, then softmax(q k^T / sqrt(hd)) v per head, one
 * kernel forward and one backward, with no head transposes -> [B*T, H*hd]. Only where
 * fusedAttentionFits(T, hd); the same bits as the composed path in llama.ts.
 */
export function causalSelfAttention(q: Tensor, k: Tensor, v: Tensor, B: number, H: number, t: RopeTables): Tensor {
  const [rows, d] = q.shape as [number, number];
  const T = rows / B;
  const hd = d / H;
  const shape = [B, T, H, hd];
  const attrs = { shape, scale: 1 / Math.sqrt(hd) };
  return customOp((qi: Tensor, ki: Tensor, vi: Tensor, save: Save) => {
    const [o, p] = runFusedKernel(tf, 'causalAttention', { q: qi, k: ki, v: vi }, attrs);
    save([qi, ki, vi, p!]);
    return {
      value: o!,
      gradFunc: (dy: Tensor, [sq, sk, sv, sp]: Tensor[]) =>
        runFusedKernel(tf, 'causalAttentionGrad', { dy, q: sq, k: sk, v: sv, p: sp }, attrs),
    };
  })(nativeRope(q, t, shape), nativeRope(k, t, shape), v);
}

function causalMask(Tq: number, Tk: number): Tensor {
  // query i (absolute position Tk - Tq + i) may see keys 0..Tk-Tq+i
  const m = new Float32Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) for (let j = Tk - Tq + i + 1; j < Tk; j++) m[i * Tk + j] = -1e9;
  return tf.tensor2d(m, [Tq, Tk]);
}

/**
 * Attention probabilities softmax(scale * scores + masks) over keys, scores [B, H, Tq, Tk]:
 * query i sees keys up to Tk - Tq + i (causal), and keyMask [B, Tk] (0 or -1e9) is added.
 */
export function attentionProbs(scores: Tensor, scale: number, keyMask?: Tensor): Tensor {
  const [B, , Tq, Tk] = scores.shape as [number, number, number, number];
  if (!nativeActive()) {
    let s = tf.add(tf.mul(scores, scale), causalMask(Tq, Tk));
    if (keyMask) s = tf.add(s, tf.reshape(keyMask, [B, 1, 1, Tk]));
    return tf.softmax(s);
  }
  return customOp((s: Tensor, save: Save) => {
    const [p] = runFusedKernel(tf, 'attentionSoftmax', { scores: s, keyMask }, { scale, causal: true });
    save([p!]);
    return {
      value: p!,
      gradFunc: (dp: Tensor, [sp]: Tensor[]) =>
        runFusedKernel(tf, 'attentionSoftmaxGrad', { dp, p: sp }, { scale })[0]!,
    };
  })(scores);
}

/** log-softmax over the last axis; gradient dy - softmax(x) * sum(dy). */
export const logSoftmax = customOp((x: Tensor, save: Save) => {
  const y = tf.sub(x, tf.logSumExp(x, -1, true));
  save([y]);
  return {
    value: y,
    gradFunc: (dy: Tensor, saved: Tensor[]) => tf.sub(dy, tf.mul(tf.exp(saved[0]!), tf.sum(dy, -1, true))),
  };
});

/** Mean cross-entropy of logits [n, V] against targets [n]. */
export function crossEntropy(logits: Tensor2D, targets: Int32Array): Tensor {
  const [n, v] = logits.shape;
  if (nativeActive()) {
    return customOp((l: Tensor, save: Save) => {
      const t = tf.tensor1d(targets, 'int32');
      const [loss, lse] = runFusedKernel(tf, 'crossEntropy', { logits: l, targets: t });
      save([l, t, lse!]);
      return {
        value: loss!,
        gradFunc: (dloss: Tensor, [sl, st, slse]: Tensor[]) =>
          runFusedKernel(tf, 'crossEntropyGrad', { dloss, logits: sl, targets: st, lse: slse })[0]!,
      };
    })(logits);
  }
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), v);
  return tf.div(tf.neg(tf.sum(tf.mul(oneHot, logSoftmax(logits)))), n);
}
