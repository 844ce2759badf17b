import { availableParallelism } from 'node:os';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { CpuPoolClosed, CpuTaskAborted, CpuTaskFailed } from '../errors.js';
import { deserializeError, type CpuTaskRequest, type CpuThreadMessage } from './cpu-protocol.js';

export interface CpuRunOptions {
  /** Buffers moved (not copied) to the thread; they become unusable on the calling side. */
  transfer?: readonly TransferListItem[];
  /** Aborting rejects with MF_ERR_CPU_TASK_ABORTED; a running task's thread is terminated. */
  signal?: AbortSignal;
  /** Receives the task's `context.progress(percent)` reports. */
  onProgress?: (percent: number) => void;
}

/** A small pool of worker threads for CPU-heavy functions. */
export interface CpuPool {
  readonly size: number;
  /**
   * Runs `exportName` of the module at `moduleUrl` (a `file:` URL, TypeScript allowed) in a thread.
   * A task that throws rejects with its error's name, message, code, status and details kept.
   */
  run<Output = unknown>(
    moduleUrl: string | URL,
    exportName: string,
    input: unknown,
    options?: CpuRunOptions,
  ): Promise<Output>;
  /** Rejects queued tasks, terminates the threads. Running tasks reject with MF_ERR_CPU_POOL_CLOSED. */
  close(): Promise<void>;
}

export interface CpuPoolOptions {
  /** Threads at most; default os.availableParallelism() - 1, at least 1 (the main thread keeps a core). */
  size?: number;
}

interface Task {
  request: CpuTaskRequest;
  transfer: readonly TransferListItem[];
  options: CpuRunOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  detachSignal(): void;
}

interface Thread {
  worker: Worker;
  task: Task | undefined;
}

/** A JavaScript entry that installs tsx in the thread, so task modules may be TypeScript (see the file). */
const threadEntry = new URL('./cpu-thread-entry.mjs', import.meta.url);

export function createCpuPool(options: CpuPoolOptions = {}): CpuPool {
  const size = Math.max(1, options.size ?? availableParallelism() - 1);
  const threads = new Set<Thread>();
  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Thread {
    const worker = new Worker(threadEntry);
    const thread: Thread = { worker, task: undefined };
    worker.on('message', (message: CpuThreadMessage) => {
      const task = thread.task;
      if (task === undefined || task.request.id !== message.id) return;
      if (message.type === 'progress') {
        task.options.onProgress?.(message.percent);
        return;
      }
      settle(thread, () => {
        if (message.type === 'result') task.resolve(message.result);
        else task.reject(deserializeError(message.error));
      });
    });
    // 'error' is an uncaught exception in the thread (it then exits); 'exit' covers crashes and terminate().
    worker.on('error', (error) => {
      // The thread is dying: take it out of rotation before anything is dispatched again.
      threads.delete(thread);
      const task = thread.task;
      if (task !== undefined)
        settle(thread, () => task.reject(new CpuTaskFailed(describe(task), error.message, { cause: error })));
    });
    worker.on('exit', (code) => {
      threads.delete(thread);
      const task = thread.task;
      thread.task = undefined;
      task?.detachSignal();
      task?.reject(
        closed ? new CpuPoolClosed() : new CpuTaskFailed(describe(task), `thread exited with code ${String(code)}`),
      );
      dispatch();
    });
    threads.add(thread);
    return thread;
  }

  function settle(thread: Thread, deliver: () => void): void {
    const task = thread.task;
    thread.task = undefined;
    task?.detachSignal();
    // An idle thread must not keep the process alive; it is re-referenced when it gets work.
    thread.worker.unref();
    deliver();
    dispatch();
  }

  function dispatch(): void {
    while (queue.length > 0 && !closed) {
      let idle: Thread | undefined;
      for (const thread of threads) {
        if (thread.task === undefined) {
          idle = thread;
          break;
        }
      }
      if (idle === undefined && threads.size < size) idle = spawn();
      if (idle === undefined) return;
      const task = queue.shift() as Task;
      idle.task = task;
      idle.worker.ref();
      idle.worker.postMessage(task.request, [...task.transfer]);
    }
  }

  function abort(task: Task): void {
    const queued = queue.indexOf(task);
    if (queued >= 0) {
      queue.splice(queued, 1);
      task.detachSignal();
      task.reject(new CpuTaskAborted(describe(task)));
      return;
    }
    for (const thread of threads) {
      if (thread.task === task) {
        // Synchronous work cannot be interrupted from outside; terminating the thread is the only way.
        thread.task = undefined;
        threads.delete(thread);
        task.detachSignal();
        task.reject(new CpuTaskAborted(describe(task)));
        void thread.worker.terminate();
        dispatch();
        return;
      }
    }
  }

  return {
    size,
    run<Output>(
      moduleUrl: string | URL,
      exportName: string,
      input: unknown,
      runOptions: CpuRunOptions = {},
    ): Promise<Output> {
      if (closed) return Promise.reject(new CpuPoolClosed());
      const request: CpuTaskRequest = { id: nextId++, moduleUrl: String(moduleUrl), exportName, input };
      return new Promise<Output>((resolve, reject) => {
        const signal = runOptions.signal;
        const task: Task = {
          request,
          transfer: runOptions.transfer ?? [],
          options: runOptions,
          resolve: resolve as (value: unknown) => void,
          reject,
          detachSignal: () => signal?.removeEventListener('abort', onAbort),
        };
        const onAbort = (): void => abort(task);
        if (signal?.aborted) {
          reject(new CpuTaskAborted(describe(task)));
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(task);
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const task of queue.splice(0)) {
        task.detachSignal();
        task.reject(new CpuPoolClosed());
      }
      await Promise.all([...threads].map((thread) => thread.worker.terminate()));
      threads.clear();
    },
  };
}

function describe(task: Task): string {
  const { moduleUrl, exportName } = task.request;
  return `${moduleUrl.slice(moduleUrl.lastIndexOf('/') + 1)}#${exportName}`;
}

/** Tells a pool handed in from options for one to create. */
export function isCpuPool(value: CpuPool | CpuPoolOptions | undefined): value is CpuPool {
  return value !== undefined && typeof (value as CpuPool).run === 'function';
}
