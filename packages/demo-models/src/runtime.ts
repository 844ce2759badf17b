import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './kernels/register.js';
import { registerFastTile } from './kernels/tile.js';

export type Tf = typeof tf;

/** Folder of tfjs-backend-wasm's .wasm binaries, as a directory path with a trailing separator (setWasmPaths joins names to it). */
function wasmFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep;
}

/**
 * TF.js on the wasm backend with our gradient kernels registered (and its Tile replaced by a
 * block-copy one, see kernels/tile.ts), ready to train. TF.js keeps one engine per thread, so this
 * switches the whole thread to wasm.
 */
export async function createTrainingRuntime(): Promise<Tf> {
  if (tf.getBackend() !== 'wasm') {
    setWasmPaths(wasmFolder());
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  }
  await tf.ready();
  registerTrainingKernels('wasm');
  registerFastTile('wasm');
  return tf;
}
