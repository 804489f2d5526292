// The fused kernels of native/fused.cc and native/attention.cc as wasm kernels: each makes its
// outputs, then hands the addon one Float64Array in the C++ kernel's order: the inputs' heap
// offsets (-1 = an absent optional one), the outputs', then sizes and scalars. Pure data;
// nativeKernels.ts registers and runs them.
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
  /** the inputs by name, in the kernel's argument order */
  inputs: string[];
  /** the outputs' shapes */
  outputs(x: Record<string, Info>, attrs: Record<string, unknown>): number[][];
  /** sizes and scalars, after the operands */
  sizes(x: Record<string, Info>, attrs: Record<string, unknown>): number[];
}
/** The number of elements of a shape. */
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const dims = (t: Info): number[] => [...t.shape];
const lastDim = (t: Info): number => t.shape[t.shape.length - 1]!;
const rowsOf = (t: Info): number => size(t.shape) / lastDim(t);
/** [rows, last dimension] of input `name` */
const rowsAndLast =
  (name: string) =>
  (x: Record<string, Info>): number[] => [rowsOf(x[name]!), lastDim(x[name]!)];
const elements =
  (name: string) =>
  (x: Record<string, Info>): number[] => [size(x[name]!.shape)];
const sameAs =
  (...names: string[]) =>
  (x: Record<string, Info>): number[][] =>
    names.map((n) => dims(x[n]!));

export const FUSED_KERNELS: FusedKernel[] = [
  {
    call: 'rmsNorm',
    inputs: ['x', 'w'],
    outputs: (x) => [dims(x.x!), [rowsOf(x.x!)]],
    sizes: (x, a) => [...rowsAndLast('x')(x), a.eps as number],
  },
  { call: 'rmsNormGrad', inputs: ['dy', 'x', 'w', 'rstd'], outputs: sameAs('x', 'w'), sizes: rowsAndLast('x') },
  { call: 'swiGlu', inputs: ['gate', 'up'], outputs: sameAs('gate'), sizes: elements('gate') },
  { call: 'reluGrad', inputs: ['dy', 'h'], outputs: sameAs('dy'), sizes: elements('dy') },
  { call: 'swiGluGrad', inputs: ['dy', 'gate', 'up'], outputs: sameAs('gate', 'up'), sizes: elements('gate') },
  {
    call: 'rope',
    inputs: ['x', 'cos', 'sin'],
    outputs: sameAs('x'),
    // layout [outer, T, inner, hd]: heads first [B, H, T, hd] (outer B*H, inner 1) or heads inner [B*T, H*hd]
    sizes: (_x, a) => [...(a.layout as number[]), a.sign as number],
  },
  {
    call: 'causalAttention',
    inputs: ['q', 'k', 'v'],
    outputs: (x, a) => {
      const [B, T, H] = a.shape as number[];
      return [dims(x.q!), [B!, H!, T!, T!]];
    },
    sizes: (_x, a) => [...(a.shape as number[]), a.scale as number],
  },
  {
    call: 'causalAttentionGrad',
    inputs: ['dy', 'q', 'k', 'v', 'p'],
    outputs: sameAs('q', 'k', 'v'),
    sizes: (_x, a) => [...(a.shape as number[]), a.scale as number],
  },
  {
    call: 'attentionSoftmax',
    inputs: ['scores', 'keyMask'],
    outputs: sameAs('scores'),
    sizes: (x, a) => [...dims(x.scores!), a.scale as number, a.causal ? 1 : 0],
  },
  {
    call: 'attentionSoftmaxGrad',
    inputs: ['dp', 'p'],
    outputs: sameAs('p'),
    sizes: (x, a) => [...rowsAndLast('p')(x), a.scale as number],
  },
  {
    call: 'crossEntropy',
    inputs: ['logits', 'targets'],
    outputs: (x) => [[], [rowsOf(x.logits!)]],
    sizes: rowsAndLast('logits'),
  },
  {
    call: 'crossEntropyGrad',
    inputs: ['dloss', 'logits', 'targets', 'lse'],
    outputs: sameAs('logits'),
    sizes: rowsAndLast('logits'),
  },
  {
    call: 'gatherRows',
    inputs: ['x', 'indices'],
    outputs: (x) => [[x.indices!.shape[0]!, lastDim(x.x!)]],
    sizes: (x) => [rowsOf(x.x!), x.indices!.shape[0]!, lastDim(x.x!)],
  },
  {
    call: 'scatterAddRows',
    inputs: ['dy', 'indices'],
    outputs: (x, a) => [[a.rows as number, lastDim(x.dy!)]],
    sizes: (x, a) => [a.rows as number, x.indices!.shape[0]!, lastDim(x.dy!)],
  },
];
