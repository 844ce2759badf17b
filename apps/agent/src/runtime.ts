/**
 * The device runtime: TF.js 4.22 on the wasm backend (DESIGN.md, Runtime). Imported lazily, on the first smoke
 * test, so an agent idling between polls does not carry TF.js and its wasm heap (see the README's RSS figures).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;

export interface DeviceRuntime {
  tf: Tf;
  simd: boolean;
}

let initialisation: Promise<DeviceRuntime> | undefined;

/**
 * Where tfjs-backend-wasm's .wasm binaries are: next to the bundle when the agent is packed into one file
 * (`MODELFLEET_AGENT_WASM_DIR`, set by the packed launcher), else in the installed package.
 */
function wasmFolder(): string {
  const packed = process.env.MODELFLEET_AGENT_WASM_DIR;
  if (packed !== undefined && packed !== '') return packed.endsWith(path.sep) ? packed : packed + path.sep;
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep;
}

/** TF.js keeps its engine in a module-level global: the first call sets it up, later calls share it. */
export function deviceRuntime(): Promise<DeviceRuntime> {
  initialisation ??= (async () => {
    try {
      const tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (tf.getBackend() !== 'wasm') {
        wasm.setWasmPaths(wasmFolder());
        if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      }
      await tf.ready();
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
      return { tf, simd };
    } catch (error) {
      initialisation = undefined;
      throw error;
    }
  })();
  return initialisation;
}
