import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = fileURLToPath(new URL('../../server/', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../agent/bin/modelfleet-agent.js', import.meta.url));

/** A child process of the tour: its output goes to a log file, so the terminal shows only the story. */
export interface TourProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the first output line that matches, or rejects at the deadline or when the process exits. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

function startLogged(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string>; logFile: string },
): TourProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    partial += chunk.toString('utf8');
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete);
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit');
  exited.then(
    () => {
      log.end();
      for (const waiter of waiters) waiter();
    },
    () => undefined,
  );

  return {
    name,
    child,
    logFile: options.logFile,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            const line = lines[seen]!;
            if (match(line)) return finish(() => resolve(line));
          }
          if (child.exitCode !== null || child.signalCode !== null)
            finish(() =>
              reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}); see ${options.logFile}`)),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() => reject(new Error(`${name}: nothing expected within ${timeoutMs} ms; see ${options.logFile}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited.catch(() => undefined);
      clearTimeout(timer);
    },
  };
}

/** The server as production runs it (node --import tsx src/server.ts). */
export function startServerProcess(env: Record<string, string>, logFile: string): TourProcess {
  return startLogged('server', process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: SERVER_DIR,
    env,
    logFile,
  });
}

/** One `modelfleet-agent run` daemon. */
export function startAgentProcess(name: string, env: Record<string, string>, logFile: string): TourProcess {
  return startLogged(name, process.execPath, [AGENT_BIN, 'run'], { env, logFile });
}
