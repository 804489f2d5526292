// tfjs on the wasm backend (SIMD, one thread in Node). The pure-JS cpu backend is ~20x
// slower, so we refuse to train on it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerGradients } from './gradients.js';
import { installNativeKernels } from './nativeKernels.js';
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

/** Host copy of a tensor, then frees it (tf.tidy must not return host arrays: it walks them). */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}
