import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A worker process started the way production starts it (tsx src/main.ts), with its log lines. */
export interface WorkerProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first log line that satisfies `match` (already seen or still to come). */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

const appRoot = fileURLToPath(new URL('..', import.meta.url));

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  // `--import tsx` is what the tsx CLI does, minus its extra supervising process: the signal and
  // the exit code are the worker's own.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: appRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ msg: text });
    }
    for (const wake of waiters) wake();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  return {
    child,
    lines,
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found === undefined) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`worker ${String(child.pid)} did not log the expected line in time; stderr: ${stderr}`));
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(new Error(`worker ${String(child.pid)} exited; stderr: ${stderr}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}
