// Training several MLPs at once on one shared stream of minibatches: teachers on digits with
// cross-entropy over the class logits, students on noise with KL to their teacher's logits.
import { readAndDispose, tf } from '../model/backend.js';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { AdamW, DEFAULT_ADAMW } from '../model/optimizer.js';
import { CLASSES, INPUT, Mlp, OUTPUTS } from './mlp.js';
import { epochBatches, gatherRowsF32 } from './data.js';
import type { MnistTrainSettings } from './settings.js';

/** Which logits a student's loss sees: the 3 auxiliary ones, or all 13. */
export type LogitSlice = 'aux' | 'all';
const SLICES: Record<LogitSlice, [number, number]> = { aux: [CLASSES, OUTPUTS], all: [0, OUTPUTS] };

/** A loss on one network's logits for the batch rows `idx`: its value and d loss / d logits. */
export type LossGrad = (logits: Tensor2D, idx: Int32Array) => { loss: Tensor; dLogits: Tensor2D };

/** Mean cross-entropy over the 10 class logits; the auxiliary logits get no gradient. */
export function classCrossEntropy(labels: Uint8Array): LossGrad {
  return (logits, idx) => {
    const B = idx.length;
    const classLogits = tf.slice(logits, [0, 0], [B, CLASSES]);
    const oneHot = tf.oneHot(
      tf.tensor1d(
        Int32Array.from(idx, (i) => labels[i]!),
        'int32',
      ),
      CLASSES,
    );
    const loss = tf.div(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(classLogits)))), B);
    const d = tf.div(tf.sub(tf.softmax(classLogits), oneHot), B);
    return {
      loss,
      dLogits: tf.pad(d, [
        [0, 0],
        [0, OUTPUTS - CLASSES],
      ]) as Tensor2D,
    };
  };
}

/** Mean KL(softmax(teacher) || softmax(student)) over the chosen logits of precomputed teacher logits [count, 13]. */
export function distillationKl(teacherLogits: Float32Array, slice: LogitSlice): LossGrad {
  const [lo, hi] = SLICES[slice];
  return (logits, idx) => {
    const B = idx.length;
    const student = tf.slice(logits, [0, lo], [B, hi - lo]);
    const teacher = tf.slice(
      tf.tensor2d(gatherRowsF32(teacherLogits, OUTPUTS, idx), [B, OUTPUTS]),
      [0, lo],
      [B, hi - lo],
    );
    const logPT = tf.logSoftmax(teacher);
    const pT = tf.exp(logPT);
    const loss = tf.div(tf.sum(tf.mul(pT, tf.sub(logPT, tf.logSoftmax(student)))), B);
    const d = tf.div(tf.sub(tf.softmax(student), pT), B);
    return {
      loss,
      dLogits: tf.pad(d, [
        [0, 0],
        [lo, OUTPUTS - hi],
      ]) as Tensor2D,
    };
  };
}

export interface GroupMember {
  net: Mlp;
  loss: LossGrad;
}

/**
 * Trains every member with Adam on the same minibatches of `inputs` [count, 784]; returns
 * each member's mean loss per epoch. `label` keys the data order (with the seed).
 */
export function trainGroup(
  members: GroupMember[],
  inputs: Float32Array,
  count: number,
  s: MnistTrainSettings,
  label: string,
  onStep?: (done: number, total: number) => void,
): number[][] {
  const settings = { ...DEFAULT_ADAMW, clipNorm: 0 };
  const optimizers = members.map((m) => new AdamW(m.net.params, settings));
  const stepsPerEpoch = Math.ceil(count / s.batchSize);
  const curves = members.map(() => [] as number[]);
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const sums = new Float64Array(members.length);
    for (const [b, idx] of epochBatches(count, s.batchSize, s.seed, `${label}-${epoch}`).entries()) {
      const losses = readAndDispose(
        tf.tidy(() => {
          const x = tf.tensor2d(gatherRowsF32(inputs, INPUT, idx), [idx.length, INPUT]);
          return tf.stack(
            members.map((m, k) => {
              const act = m.net.forward(x);
              const { loss, dLogits } = m.loss(act.logits, idx);
              optimizers[k]!.apply(m.net.backward(x, act, dLogits), s.lr);
              return loss;
            }),
          );
        }),
      );
      for (let k = 0; k < members.length; k++) sums[k]! += losses[k]! * idx.length;
      onStep?.(epoch * stepsPerEpoch + b + 1, s.epochs * stepsPerEpoch);
    }
    for (let k = 0; k < members.length; k++) curves[k]!.push(sums[k]! / count);
  }
  for (const o of optimizers) o.dispose();
  return curves;
}

/** Logits [count, 13] of a network over a host matrix, in chunks. */
export function allLogits(net: Mlp, inputs: Float32Array, count: number, chunk = 2000): Float32Array {
  const out = new Float32Array(count * OUTPUTS);
  for (let i = 0; i < count; i += chunk) {
    const n = Math.min(chunk, count - i);
    out.set(net.logits(inputs.subarray(i * INPUT, (i + n) * INPUT), n), i * OUTPUTS);
  }
  return out;
}

/** Test accuracy: argmax over the 10 class logits only. */
export function accuracy(net: Mlp, images: Float32Array, labels: Uint8Array, count: number): number {
  const logits = allLogits(net, images, count);
  let correct = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (logits[i * OUTPUTS + c]! > logits[i * OUTPUTS + best]!) best = c;
    if (best === labels[i]) correct++;
  }
  return correct / count;
}
