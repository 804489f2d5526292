// tfjs on the wasm backend (SIMD, one thread in Node). The pure-JS cpu backend is ~20x
// slower, so we refuse to train on it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerGradients } from './gradients.js';
import { installNativeKernels } from './nativeKernels.js';

let ready: Promise<void> | undefined;

export function initBackend(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('could not start the tfjs wasm backend');
    await tf.ready();
    registerGradients();
    shareDataOnIdentity();
    installNativeKernels(tf);
  })();
  return ready;
}

export { tf };

/**
 * tfjs clones every tensor a gradient needs (Identity), and the wasm Identity kernel copies
 * the data: a sixth of a training step of the embedded model. Tensors are immutable, so a
 * clone can share the data and count a reference, as the wasm Reshape kernel already does.
 */
function shareDataOnIdentity(): void {
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return;
  type Args = { inputs: { x: tf.TensorInfo }; backend: { incRef(dataId: object): void } };
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: Args) => {
      const { x } = args.inputs;
      if (x.dtype === 'string') return original.kernelFunc(args as never);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }) as tf.KernelFunc,
  });
}

/** Host copy of a tensor, then frees it (tf.tidy must not return host arrays: it walks them). */
export function readAndDispose(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array; t.dispose(); return v;
}
