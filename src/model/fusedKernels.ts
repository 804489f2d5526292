// The fused kernels of native/fused.cc and native/attention.cc as wasm kernels: each makes its
// outputs, then hands the addon one Float64Array of operand offsets (-1 = absent), sizes and
// scalars, in the C++ kernel's order. Pure data; nativeKernels.ts registers and runs them.
import type * as TfCore from '@tensorflow/tfjs-core';

export const FUSED_CALLS = [
  'rmsNorm',
  'rmsNormGrad',
  'swiGlu',
  'swiGluGrad',
  'rope',
  'attentionSoftmax',
  'attentionSoftmaxGrad',
  'crossEntropy',
  'crossEntropyGrad',
  'gatherRows',
  'scatterAddRows',
  'concat2',
  'add2',
  'transpose0213',
  'reluGrad',
  'causalAttention',
  'causalAttentionGrad',
] as const;
export type FusedName = (typeof FUSED_CALLS)[number];

type Info = TfCore.TensorInfo;
export interface FusedKernel {
  call: FusedName;
  outputs(x: Record<string, Info>, attrs: Record<string, unknown>): number[][];
  args(
    x: Record<string, Info>,
    outs: Info[],
    attrs: Record<string, unknown>,
    off: (t: Info | undefined) => number,
  ): number[];
}
const dims = (t: Info): number[] => [...t.shape];
const lastDim = (t: Info): number => t.shape[t.shape.length - 1]!;
const rowsOf = (t: Info): number => size(t.shape) / lastDim(t);
export const FUSED_KERNELS: FusedKernel[] = [
  {
    call: 'rmsNorm',
    outputs: (x) => [dims(x.x!), [rowsOf(x.x!)]],
    args: (x, [y, rstd], a, off) => [
      off(x.x),
      off(x.w),
      off(y),
      off(rstd),
      rowsOf(x.x!),
      lastDim(x.x!),
      a.eps as number,
    ],
  },
  {
    call: 'rmsNormGrad',
    outputs: (x) => [dims(x.x!), dims(x.w!)],
    args: (x, [dx, dw], _a, off) => [
      off(x.dy),
      off(x.x),
      off(x.w),
      off(x.rstd),
      off(dx),
      off(dw),
      rowsOf(x.x!),
      lastDim(x.x!),
    ],
  },
  {
    call: 'swiGlu',
    outputs: (x) => [dims(x.gate!)],
    args: (x, [y], _a, off) => [off(x.gate), off(x.up), off(y), size(x.gate!.shape)],
  },
  {
    call: 'reluGrad',
    outputs: (x) => [dims(x.dy!)],
    args: (x, [dx], _a, off) => [off(x.dy), off(x.h), off(dx), size(x.dy!.shape)],
  },
  {
    call: 'swiGluGrad',
    outputs: (x) => [dims(x.gate!), dims(x.up!)],
    args: (x, [dg, du], _a, off) => [off(x.dy), off(x.gate), off(x.up), off(dg), off(du), size(x.gate!.shape)],
  },
  {
    call: 'rope',
    outputs: (x) => [dims(x.x!)],
    // layout [outer, T, inner, hd]: heads first [B, H, T, hd] (outer B*H, inner 1) or heads inner [B*T, H*hd]
    args: (x, [y], a, off) => [off(x.x), off(x.cos), off(x.sin), off(y), ...(a.layout as number[]), a.sign as number],
  },
  {
    call: 'causalAttention',
    outputs: (x, a) => {
      const [B, T, H] = a.shape as number[];
      return [dims(x.q!), [B!, H!, T!, T!]];
    },
    args: (x, [o, p], a, off) => [
      off(x.q),
      off(x.k),
      off(x.v),
      off(o),
      off(p),
      ...(a.shape as number[]),
      a.scale as number,
    ],
  },
  {
    call: 'causalAttentionGrad',
    outputs: (x) => [dims(x.q!), dims(x.k!), dims(x.v!)],
    args: (x, [dq, dk, dv], a, off) => [
      off(x.dy),
      off(x.q),
      off(x.k),
      off(x.v),
      off(x.p),
      off(dq),
      off(dk),
      off(dv),
      ...(a.shape as number[]),
      a.scale as number,
    ],
  },
  {
    call: 'attentionSoftmax',
    outputs: (x) => [dims(x.scores!)],
    args: (x, [p], a, off) => [
      off(x.scores),
      off(x.keyMask),
      off(p),
      ...dims(x.scores!),
      a.scale as number,
      a.causal ? 1 : 0,
    ],
  },
  {
    call: 'attentionSoftmaxGrad',
    outputs: (x) => [dims(x.p!)],
    args: (x, [ds], a, off) => [off(x.dp), off(x.p), off(ds), rowsOf(x.p!), lastDim(x.p!), a.scale as number],
  },
  {
    call: 'crossEntropy',
    outputs: (x) => [[], [rowsOf(x.logits!)]],
    args: (x, [loss, lse], _a, off) => [
      off(x.logits),
      off(x.targets),
      off(lse),
      off(loss),
      rowsOf(x.logits!),
      lastDim(x.logits!),
    ],
  },
  {
    call: 'crossEntropyGrad',
    outputs: (x) => [dims(x.logits!)],
    args: (x, [dl], _a, off) => [
      off(x.dloss),
      off(x.logits),
      off(x.targets),
      off(x.lse),
      off(dl),
      rowsOf(x.logits!),
      lastDim(x.logits!),
    ],
  },
  {
    call: 'gatherRows',
    outputs: (x) => [[x.indices!.shape[0]!, lastDim(x.x!)]],
    args: (x, [y], _a, off) => [off(x.x), off(x.indices), off(y), rowsOf(x.x!), x.indices!.shape[0]!, lastDim(x.x!)],
  },
  {
    call: 'scatterAddRows',
    outputs: (x, a) => [[a.rows as number, lastDim(x.dy!)]],
    args: (x, [y], a, off) => [
      off(x.dy),
      off(x.indices),
      off(y),
      a.rows as number,
      x.indices!.shape[0]!,
      lastDim(x.dy!),
    ],
  },
];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
