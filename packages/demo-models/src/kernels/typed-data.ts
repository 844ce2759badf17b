import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

/** A float32 tensor's values as the backend holds them (the wasm backend returns a copy of its heap). */
export function readFloat32(backend: KernelBackend, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  const values = backend.readSync(info.dataId);
  if (!(values instanceof Float32Array)) throw new Error('backend returned no Float32Array');
  return values;
}

/** A new backend tensor holding `values` (the backend copies them into its own memory). */
export function writeFloat32(backend: KernelBackend, shape: number[], values: Float32Array): TensorInfo {
  return { dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
}
