/**
 * The device runtime: TF.js 4.22 on the wasm backend (DESIGN.md, Runtime). Imported lazily, on the first smoke
 * test, so an agent idling between polls does not carry TF.js and its wasm heap (see the README's RSS figures).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;

export interface DeviceRuntime {
  tf: Tf;
  simd: boolean;
}

let initialisation: Promise<DeviceRuntime> | undefined;

function commonJsInterop<T extends object>(namespace: T, member: keyof T): T {
  if (typeof namespace[member] === 'function') return namespace;
  return (namespace as unknown as { default: T }).default;
}

/**
 * Where tfjs-backend-wasm's .wasm binaries are: `MODELFLEET_AGENT_WASM_DIR` if set; else the installed package;
 * else (the agent packed into one file by scripts/pack.mjs, no node_modules) the folder of the running file,
 * where the pack script copies them.
 */
function wasmFolder(): string {
  const configured = process.env.MODELFLEET_AGENT_WASM_DIR;
  if (configured !== undefined && configured !== '')
    return configured.endsWith(path.sep) ? configured : configured + path.sep;
  try {
    const require = createRequire(import.meta.url);
    return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep;
  } catch {
    // Packed: this code sits in the main file or in dist/chunks/; the binaries are in dist/.
    const here = path.dirname(fileURLToPath(import.meta.url));
    const folder =
      [here, path.dirname(here)].find((dir) => existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) ?? here;
    return folder + path.sep;
  }
}

/** TF.js keeps its engine in a module-level global: the first call sets it up, later calls share it. */
export function deviceRuntime(): Promise<DeviceRuntime> {
  initialisation ??= (async () => {
    try {
      // Packed by esbuild, these CommonJS packages arrive as { default: module } when imported dynamically.
      const tf = commonJsInterop(await import('@tensorflow/tfjs'), 'getBackend');
      const wasm = commonJsInterop(await import('@tensorflow/tfjs-backend-wasm'), 'setWasmPaths');
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
