// Gradient definitions for the kernels our models differentiate through.
// tfjs-core's Node bundle ships no gradient configs (its ESM build, which has them, cannot be
// imported from Node), so we register the few we need. Matmul, row gathers and log-softmax
// carry their own gradients (ops.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, NamedAttrMap } from '@tensorflow/tfjs-core';

/** Sums a broadcast gradient back down to `shape`. */
function unbroadcast(dy: Tensor, shape: number[]): Tensor {
  let g = dy;
  const lead = g.rank - shape.length;
  if (lead > 0)
    g = tf.sum(
      g,
      Array.from({ length: lead }, (_, i) => i),
    );
  const axes: number[] = [];
  shape.forEach((s, i) => {
    if (s === 1 && g.shape[i] !== 1) axes.push(i);
  });
  if (axes.length) g = tf.sum(g, axes, true);
  return tf.reshape(g, shape);
}

/** dy reshaped/broadcast back over the reduced axes of a reduction from `shape`. */
function expandReduced(dy: Tensor, shape: number[], attrs: NamedAttrMap): Tensor {
  const raw = attrs['axis'] as number | number[] | null | undefined;
  const axes =
    raw === undefined || raw === null
      ? shape.map((_, i) => i)
      : (Array.isArray(raw) ? raw : [raw]).map((a) => (a < 0 ? a + shape.length : a));
  const kept = shape.map((s, i) => (axes.includes(i) ? 1 : s));
  return tf.mul(tf.reshape(dy, kept), tf.ones(shape));
}

type Grad = (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Record<string, () => Tensor>;
const configs: [string, string[], boolean, Grad][] = [
  [
    'Add',
    ['a', 'b'],
    false,
    (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(dy, b!.shape) }),
  ],
  [
    'Sub',
    ['a', 'b'],
    false,
    (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(tf.neg(dy), b!.shape) }),
  ],
  [
    'Multiply',
    ['a', 'b'],
    false,
    (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, b!), a!.shape),
      b: () => unbroadcast(tf.mul(dy, a!), b!.shape),
    }),
  ],
  [
    'RealDiv',
    ['a', 'b'],
    false,
    (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b!), a!.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a!), tf.square(b!))), b!.shape),
    }),
  ],
  ['Neg', ['x'], false, (dy) => ({ x: () => tf.neg(dy) })],
  ['Square', ['x'], false, (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x!, 2)) })],
  ['Rsqrt', ['x'], false, (dy, [x]) => ({ x: () => tf.div(dy, tf.mul(tf.pow(x!, 1.5), -2)) })],
  ['Sqrt', ['x'], false, (dy, [x]) => ({ x: () => tf.div(dy, tf.mul(tf.sqrt(x!), 2)) })],
  ['Exp', [], true, (dy, [y]) => ({ x: () => tf.mul(dy, y!) })],
  ['Log', ['x'], false, (dy, [x]) => ({ x: () => tf.div(dy, x!) })],
  ['Sigmoid', [], true, (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(y!, tf.sub(1, y!))) })],
  ['Relu', ['x'], false, (dy, [x]) => ({ x: () => tf.mul(dy, tf.step(x!)) })],
  [
    'Softmax',
    [],
    true,
    (dy, [y], attrs) => {
      const dim = attrs['dim'] as number;
      return { logits: () => tf.mul(tf.sub(dy, tf.sum(tf.mul(dy, y!), dim, true)), y!) };
    },
  ],
  ['Sum', ['x'], false, (dy, [x], attrs) => ({ x: () => expandReduced(dy, x!.shape, attrs) })],
  [
    'Mean',
    ['x'],
    false,
    (dy, [x], attrs) => {
      const full = expandReduced(dy, x!.shape, attrs);
      return { x: () => tf.mul(full, dy.size / x!.size) };
    },
  ],
  ['Reshape', ['x'], false, (dy, [x]) => ({ x: () => tf.reshape(dy, x!.shape) })],
  [
    'Transpose',
    [],
    false,
    (dy, _s, attrs) => {
      const perm = attrs['perm'] as number[];
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => {
        inverse[p] = i;
      });
      return { x: () => tf.transpose(dy, inverse) };
    },
  ],
  ['Cast', [], false, (dy) => ({ x: () => tf.clone(dy) })],
];

let registered = false;
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, inputsToSave, saveOutput, gradFunc] of configs) {
    tf.registerGradient({
      kernelName,
      inputsToSave,
      outputsToSave: saveOutput ? [true] : undefined,
      gradFunc: gradFunc as never,
    });
  }
}
