/**
 * Entry point of a cpu thread (started by the pool with `--import tsx`, so task modules may be
 * TypeScript). Runs one task at a time: imports the module (cached), calls the export with the
 * input and a progress reporter, and posts back the result or the serialized error.
 */
import { parentPort } from 'node:worker_threads';
import { serializeError, type CpuTaskRequest, type CpuThreadMessage } from './cpu-protocol.js';
import type { CpuTaskContext } from './cpu-task.js';

const port = parentPort;
if (port === null) throw new Error('cpu-thread.ts must run in a worker thread');

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(moduleUrl: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(moduleUrl);
  if (loaded === undefined) {
    loaded = import(moduleUrl) as Promise<Record<string, unknown>>;
    modules.set(moduleUrl, loaded);
  }
  return loaded;
}

const post = (message: CpuThreadMessage): void => port.postMessage(message);

port.on('message', (request: CpuTaskRequest) => {
  void run(request);
});

async function run({ id, moduleUrl, exportName, input }: CpuTaskRequest): Promise<void> {
  try {
    const task = (await load(moduleUrl))[exportName];
    if (typeof task !== 'function') throw new TypeError(`${moduleUrl} has no exported function ${exportName}`);
    const context: CpuTaskContext = {
      progress: (percent) => post({ type: 'progress', id, percent }),
    };
    const result: unknown = await (task as (input: unknown, context: CpuTaskContext) => unknown)(input, context);
    post({ type: 'result', id, result });
  } catch (error) {
    // Also reached when the result cannot be cloned (a function, say): the caller gets that error.
    post({ type: 'error', id, error: serializeError(error) });
  }
}
