// A native fp32 GEMM (native/gemm.cc, an N-API addon built by node-gyp at install) behind the
// tfjs wasm backend's BatchMatMul and _FusedMatMul kernels (and its two-tensor Concat, which tfjs
// wasm does in JS, same-shape Add and the heads' Transpose; native/sample.cc draws sampled
// tokens): the tensors stay in the wasm heap and the addon reads and writes them in place. Every
// other op, and any case the addon does not cover (broadcast batches, other activations), stays
// on the wasm kernels, which are also the whole path when the addon is missing or SUBLIMINAL_NATIVE=0.
// It also registers the fused kernels (fusedKernels.ts: native/fused.cc, native/attention.cc).
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import { PACKAGE_ROOT } from '../util/packageRoot.js';
import { FUSED_CALLS, FUSED_KERNELS, size, type FusedKernel, type FusedName } from './fusedKernels.js';

type Info = TfCore.TensorInfo;

type FusedCall = (heap: ArrayBuffer, args: Float64Array) => void;

interface NativeAddon extends Record<FusedName, FusedCall> {
  /** native/peak.cc: one core's fp32 multiply-add rate over `iterations` rounds, in GFLOPS (benchmarks only) */
  peakGflops(iterations: number): number;
  /** native/sample.cc: row b draws with uniforms[b] (NaN: skipped); writes ids[b] and logprobs[b] */
  drawTokens(
    logits: Float32Array,
    uniforms: Float64Array,
    temperature: number,
    ids: Int32Array,
    logprobs: Float64Array,
  ): void;
  adam(
    heap: ArrayBuffer,
    gOff: number,
    mOff: number,
    vOff: number,
    pOff: number,
    mOut: number,
    vOut: number,
    pOut: number,
    n: number,
    settings: Float64Array,
  ): void;
  matmul(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    cOff: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    biasOff: number,
    relu: boolean,
  ): void;
}
export interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32'): TfCore.TensorInfo;
}
type KernelArgs = {
  inputs: Record<string, TfCore.TensorInfo | undefined>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
};

export const ADDON_PATH = join(PACKAGE_ROOT, 'native', 'build', 'Release', 'subliminal_native.node');

let addon: NativeAddon | null | undefined;
/** The addon, or null when it was not built here (or is switched off). */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  if (process.env.SUBLIMINAL_NATIVE === '0' || !existsSync(ADDON_PATH)) return (addon = null);
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch {
    addon = null;
  }
  const missing = addon
    ? (['matmul', 'adam', 'drawTokens', 'peakGflops', ...FUSED_CALLS] as const).filter(
        (name) => typeof addon![name] !== 'function',
      )
    : [];
  if (missing.length) {
    // an addon built from older sources: all or nothing, so both paths stay whole
    console.warn(
      `subliminal: the native addon lacks ${missing.join(', ')} (built from older sources; rebuild it with npm run ` +
        `install); using tfjs wasm alone`,
    );
    addon = null;
  }
  return addon;
}

let path: string | undefined;
/**
 * Which kernels the embedded models run on: "wasm", or "native-" and a hash of the addon's
 * sources. Part of every embedded stage's key: the two paths agree to rounding, not bit for bit.
 */
export function kernelPath(): string {
  if (path) return path;
  if (!nativeAddon()) return (path = 'wasm');
  const dir = join(PACKAGE_ROOT, 'native');
  const h = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((n) => /\.(cc|h|gyp)$/.test(n))
    .sort())
    h.update(f).update(readFileSync(join(dir, f)));
  return (path = `native-${h.digest('hex').slice(0, 12)}`);
}

/** out = op(a) op(b) (+ bias, relu) through the addon, or undefined when the case is not covered. */
function nativeMatMul(args: KernelArgs, fused: boolean): TfCore.TensorInfo | undefined {
  const { a, b, bias } = args.inputs;
  const at = args.attrs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || args.inputs.preluActivationWeights)
    return undefined;
  const activation = (at.activation as string | undefined) ?? 'linear';
  if (fused && activation !== 'linear' && activation !== 'relu') return undefined;
  const ta = Boolean(at.transposeA);
  const tb = Boolean(at.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const kb = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = size(outerA);
  const batchB = size(outerB);
  if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return undefined;
  if (bias && (bias.dtype !== 'float32' || size(bias.shape) !== n)) return undefined;
  const outer = batchA >= batchB ? outerA : outerB;
  const backend = args.backend;
  const out = backend.makeOutput([...outer, m, n], 'float32'); // may grow the heap: read the buffer after
  if (m * n === 0) return out;
  addon!.matmul(
    backend.wasm.HEAPU8.buffer as ArrayBuffer,
    backend.getMemoryOffset(a.dataId),
    backend.getMemoryOffset(b.dataId),
    backend.getMemoryOffset(out.dataId),
    batchA,
    batchB,
    m,
    n,
    k,
    ta,
    tb,
    bias ? backend.getMemoryOffset(bias.dataId) : -1,
    activation === 'relu',
  );
  return out;
}

/** A float32 concat of two tensors through the addon, or undefined when the case is not covered. */
function nativeConcat(args: KernelArgs): TfCore.TensorInfo | undefined {
  const inputs = args.inputs as unknown as TfCore.TensorInfo[];
  if (inputs.length !== 2 || inputs.some((t) => t.dtype !== 'float32' || size(t.shape) === 0)) return undefined;
  const [a, b] = inputs as [TfCore.TensorInfo, TfCore.TensorInfo];
  const rank = a.shape.length;
  if (typeof args.attrs.axis !== 'number' || rank === 0) return undefined;
  const axis = (args.attrs.axis + rank) % rank;
  if (b.shape.length !== rank || a.shape.some((n, i) => i !== axis && n !== b.shape[i])) return undefined;
  const batch = size(a.shape.slice(0, axis));
  const shape = a.shape.map((n, i) => (i === axis ? n + b.shape[i]! : n));
  return runFused(
    {
      call: 'concat2',
      inputs: ['0', '1'], // Concat's inputs are a list
      outputs: () => [shape],
      sizes: () => [batch, size(a.shape) / batch, size(b.shape) / batch],
    },
    args,
  ) as TfCore.TensorInfo;
}

/** a + b of one shape through the addon (exact, as wasm's), or undefined when shapes or dtypes differ. */
function nativeAdd(args: KernelArgs): TfCore.TensorInfo | undefined {
  const { a, b } = args.inputs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  if (a.shape.length !== b.shape.length || a.shape.some((n, i) => n !== b.shape[i])) return undefined;
  return runFused(
    {
      call: 'add2',
      inputs: ['a', 'b'],
      outputs: () => [[...a.shape]],
      sizes: () => [size(a.shape)],
    },
    args,
  ) as TfCore.TensorInfo;
}

/** The attention heads' transpose ([0, 2, 1, 3] of a rank-4 float32) through the addon; undefined otherwise. */
function nativeTranspose(args: KernelArgs): TfCore.TensorInfo | undefined {
  const x = args.inputs.x;
  const perm = args.attrs.perm as number[] | undefined;
  if (!x || x.dtype !== 'float32' || x.shape.length !== 4 || perm?.join() !== '0,2,1,3') return undefined;
  const [A, B, C, D] = x.shape as [number, number, number, number];
  return runFused(
    {
      call: 'transpose0213',
      inputs: ['x'],
      outputs: () => [[A, C, B, D]],
      sizes: () => [A, B, C, D],
    },
    args,
  ) as TfCore.TensorInfo;
}

const originals = new Map<string, TfCore.KernelConfig>();
/** Whether matmuls currently run on the native GEMM (which handles transposed operands at full speed). */
export const nativeActive = (): boolean => originals.size > 0;
/** Puts the native GEMM in front of the wasm matmul kernels; true when it is in use. */
export function installNativeKernels(tf: typeof TfCore): boolean {
  if (originals.size) return true;
  if (!nativeAddon() || tf.getBackend() !== 'wasm') return false;
  const overrides: [string, (args: KernelArgs) => TfCore.TensorInfo | undefined][] = [
    ['BatchMatMul', (args) => nativeMatMul(args, false)],
    ['_FusedMatMul', (args) => nativeMatMul(args, true)],
    ['Concat', nativeConcat],
    ['Add', nativeAdd],
    ['Transpose', nativeTranspose],
  ];
  for (const [name, native] of overrides) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: ((args: KernelArgs) => native(args) ?? original.kernelFunc(args as never)) as TfCore.KernelFunc,
    });
  }
  if (!tf.getKernel(ADAM_KERNEL, 'wasm'))
    tf.registerKernel({
      kernelName: ADAM_KERNEL,
      backendName: 'wasm',
      kernelFunc: adamKernel as unknown as TfCore.KernelFunc,
    });
  for (const k of FUSED_KERNELS) {
    const kernelName = fusedKernelName(k.call);
    if (!tf.getKernel(kernelName, 'wasm'))
      tf.registerKernel({
        kernelName,
        backendName: 'wasm',
        kernelFunc: ((args: KernelArgs) => runFused(k, args)) as unknown as TfCore.KernelFunc,
      });
  }
  return true;
}

const ADAM_KERNEL = 'SubliminalAdamW';
/** One fused AdamW step on the wasm heap: new moments and parameter as three fresh tensors. */
function adamKernel(args: KernelArgs): TfCore.TensorInfo[] {
  const { g, m, v, p } = args.inputs as Record<'g' | 'm' | 'v' | 'p', TfCore.TensorInfo>;
  const backend = args.backend;
  const outs = [m, v, p].map((t) => backend.makeOutput([...t.shape], 'float32'));
  const off = (t: TfCore.TensorInfo): number => backend.getMemoryOffset(t.dataId);
  addon!.adam(
    backend.wasm.HEAPU8.buffer as ArrayBuffer,
    off(g),
    off(m),
    off(v),
    off(p),
    off(outs[0]!),
    off(outs[1]!),
    off(outs[2]!),
    size(p.shape),
    Float64Array.from(args.attrs.settings as number[]),
  );
  return outs;
}

/** AdamW settings of one step: [beta1, beta2, 1 - beta1^t, 1 - beta2^t, eps, lr, weightDecay, gradScale]. */
export type AdamStepSettings = [number, number, number, number, number, number, number, number];
/** The fused step when the native kernels are in use; undefined otherwise (the caller composes wasm ops). */
export function nativeAdamStep(
  tf: typeof TfCore,
  g: TfCore.Tensor,
  m: TfCore.Tensor,
  v: TfCore.Tensor,
  p: TfCore.Tensor,
  settings: AdamStepSettings,
): TfCore.Tensor[] | undefined {
  if (!nativeActive()) return undefined;
  return tf.engine().runKernel(ADAM_KERNEL, { g, m, v, p }, { settings }) as unknown as TfCore.Tensor[];
}

/** Back to the wasm kernels alone (tests compare the two paths in one process). */
export function uninstallNativeKernels(tf: typeof TfCore): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(original);
  }
  originals.clear();
}

const fusedKernelName = (call: FusedName): string => `Subliminal_${call}`;

function runFused(k: FusedKernel, args: KernelArgs): Info | Info[] {
  const inputs = args.inputs as Record<string, Info>;
  const backend = args.backend;
  const outs = k.outputs(inputs, args.attrs).map((shape) => backend.makeOutput(shape, 'float32'));
  const off = (t: Info | undefined): number => (t ? backend.getMemoryOffset(t.dataId) : -1);
  const values = Float64Array.from([
    ...k.inputs.map((n) => off(inputs[n])),
    ...outs.map(off),
    ...k.sizes(inputs, args.attrs),
  ]);
  addon![k.call](backend.wasm.HEAPU8.buffer as ArrayBuffer, values); // read the heap after makeOutput (it may grow)
  return outs.length === 1 ? outs[0]! : outs;
}

/** Runs a fused native kernel (only while nativeActive()); its outputs in fused.cc's order. */
export function runFusedKernel(
  tf: typeof TfCore,
  call: FusedName,
  inputs: Record<string, TfCore.Tensor | undefined>,
  attrs: Record<string, unknown> = {},
): TfCore.Tensor[] {
  const present = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as Record<
    string,
    TfCore.Tensor
  >;
  const out = tf.engine().runKernel(fusedKernelName(call), present, attrs as TfCore.NamedAttrMap) as
    TfCore.Tensor | TfCore.Tensor[];
  return Array.isArray(out) ? out : [out];
}
