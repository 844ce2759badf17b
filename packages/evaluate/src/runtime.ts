import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EvalRuntimeUnavailable } from './errors.js';

export type Tf = typeof tf;

/** The device runtime as evaluation uses it: TF.js on the wasm backend. */
export interface EvalRuntime {
  tf: Tf;
  backend: 'wasm';
  /** Whether the wasm binary in use is the SIMD build. */
  simd: boolean;
  /**
   * Always false in Node: tfjs-backend-wasm 4.22 hard-codes `WASM_HAS_MULTITHREAD_SUPPORT` to false
   * when `IS_NODE` (flags_wasm.js, tfjs issue 3830), so the threaded-SIMD binary is never chosen.
   */
  threads: boolean;
}

let initialisation: Promise<EvalRuntime> | undefined;

/** Folder holding tfjs-backend-wasm's .wasm binaries (the package has no exports map, so dist/ resolves). */
function wasmFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep;
}

/**
 * Initialises TF.js with the wasm backend (SIMD where the engine validates it) and returns it.
 * TF.js keeps its engine in a module-level global, so the first call does the work and every later
 * call in the same thread shares it; each worker thread has its own.
 */
export function createRuntime(): Promise<EvalRuntime> {
  initialisation ??= (async () => {
    try {
      if (tf.getBackend() !== 'wasm') {
        setWasmPaths(wasmFolder());
        const ok = await tf.setBackend('wasm');
        if (!ok) throw new Error('tf.setBackend("wasm") returned false');
      }
      await tf.ready();
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
      const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
      return { tf, backend: 'wasm' as const, simd, threads };
    } catch (error) {
      initialisation = undefined;
      throw new EvalRuntimeUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
    }
  })();
  return initialisation;
}
