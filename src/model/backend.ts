// tfjs on the wasm backend (SIMD, one thread in Node). The pure-JS cpu backend is ~20x
// slower, so we refuse to train on it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerGradients } from './gradients.js';
import { installNativeKernels, type WasmBackendLike } from './nativeKernels.js';
import { installWasmKernelFixes } from './wasmKernels.js';

let ready: Promise<void> | undefined;

export function initBackend(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('could not start the tfjs wasm backend');
    await tf.ready();
    registerGradients();
    installWasmKernelFixes(tf);
    installNativeKernels(tf);
  })();
  return ready;
}

export { tf };

/**
 * Host copy of a tensor, then frees it (tf.tidy must not return host arrays: it walks them).
 * A float32 tensor is copied straight out of the wasm heap, into `into` when it is large enough:
 * dataSync allocates a fresh buffer per read, which cost a sampling loop more than its matmuls.
 */
export function readAndDispose(t: tf.Tensor, into?: Float32Array): Float32Array {
  if (t.dtype !== 'float32' || tf.getBackend() !== 'wasm') {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
  }
  const heap = tf.backend() as unknown as WasmBackendLike;
  const n = t.size;
  const out = into && into.length >= n ? into.subarray(0, n) : new Float32Array(n);
  out.set(new Float32Array(heap.wasm.HEAPU8.buffer, heap.getMemoryOffset(t.dataId), n));
  t.dispose();
  return out;
}
