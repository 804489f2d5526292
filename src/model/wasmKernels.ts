// A faster tfjs wasm kernel, on the wasm backend with or without the native addon.
import type * as TfCore from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  incRef(dataId: object): void;
}
type KernelArgs = {
  inputs: Record<string, TfCore.TensorInfo>;
  backend: WasmBackendLike;
  attrs: Record<string, unknown>;
};

/**
 * tfjs clones every tensor a gradient needs (Identity), and the wasm Identity kernel copies
 * the data: a sixth of a training step of the embedded model. Tensors are immutable, so a
 * clone can share the data and count a reference, as the wasm Reshape kernel already does.
 */
function identity(args: KernelArgs, original: TfCore.KernelFunc): TfCore.TensorInfo {
  const x = args.inputs.x!;
  if (x.dtype === 'string') return original(args as never) as TfCore.TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Puts the faster kernels in front of the wasm backend's own. */
export function installWasmKernelFixes(tf: typeof TfCore): void {
  for (const [name, fast] of [['Identity', identity]] as const) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: ((args: KernelArgs) => fast(args, original.kernelFunc)) as unknown as TfCore.KernelFunc,
    });
  }
}
