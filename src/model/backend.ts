// tfjs on the wasm backend (SIMD, one thread in Node). The pure-JS cpu backend is ~20x
// slower, so we refuse to train on it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerGradients } from './gradients.js';

let ready: Promise<void> | undefined;

export function initBackend(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('could not start the tfjs wasm backend');
    await tf.ready();
    registerGradients();
  })();
  return ready;
}

export { tf };
