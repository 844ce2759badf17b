import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PublicKeys } from '@modelfleet/contracts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A process of ours with its output, parsed as pino JSON lines where it is JSON. */
export interface RunningProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  output(): string;
  /** Resolves with the first line that matches (already seen or still to come). */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** Sends the signal (to the whole process group when started as a group) and resolves with the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; group?: boolean } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, so a signal reaches npm, turbo and the server at once, as Ctrl-C does in a terminal.
    detached: options.group === true,
  });
  const lines: Record<string, unknown>[] = [];
  let text = '';
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    text += `${line}\n`;
    try {
      const parsed = JSON.parse(line) as unknown;
      lines.push(parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : { msg: line });
    } catch {
      lines.push({ msg: line });
    }
    for (const wake of waiters) wake();
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  let done = false;
  void exited.then(() => (done = true));

  return {
    child,
    lines,
    output: () => text,
    exited,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (done) {
            finish();
            reject(new Error(`process exited before the expected line; output:\n${text.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no expected line within ${timeoutMs} ms; output:\n${text.slice(-4000)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (!done) {
        if (options.group === true) process.kill(-child.pid!, signal);
        else child.kill(signal);
      }
      const timer = setTimeout(() => {
        if (options.group === true) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      }, timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The address the server logged when it started listening (it listens on an ephemeral port in tests). */
export async function serverAddress(server: RunningProcess, timeoutMs = 90_000): Promise<string> {
  const line = await server.waitForLine(
    (entry) => typeof entry.address === 'string' && String(entry.msg).startsWith('ModelFleet listening'),
    timeoutMs,
  );
  return line.address as string;
}

/** Starts `apps/server` the way production does (node --import tsx), on an ephemeral port. */
export function startServer(env: Record<string, string | undefined>): RunningProcess {
  return startProcess(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: `${repoRoot}apps/server`,
    env: { PORT: '0', ...env },
  });
}

/** Starts `apps/worker` (node --import tsx src/main.ts). */
export function startWorker(env: Record<string, string | undefined>): RunningProcess {
  return startProcess(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: `${repoRoot}apps/worker`, env });
}

/** Runs a Node.js program of ours to completion, with its output. */
async function runToCompletion(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Runs the `modelfleet` CLI to completion. */
export function runCli(args: string[], env: Record<string, string | undefined>) {
  return runToCompletion(`${repoRoot}apps/cli/bin/modelfleet.js`, args, env);
}

const agentBin = `${repoRoot}apps/agent/bin/modelfleet-agent.js`;

/** Starts `modelfleet-agent <args>` (the daemon: `run`) as its own process; configuration through env. */
export function startAgent(args: string[], env: Record<string, string | undefined>): RunningProcess {
  return startProcess(process.execPath, [agentBin, ...args], { env });
}

/** Runs `modelfleet-agent <args>` (`check`, `status`) to completion. */
export function runAgent(args: string[], env: Record<string, string | undefined>) {
  return runToCompletion(agentBin, args, env);
}

/**
 * A test agent's environment: the server it talks to (`agentServer`: the server itself or a proxy in front),
 * its enrolment token, the server's public keys pinned as provisioning does (at run time the agent never
 * fetches them), and fast polling and backoff.
 */
export async function testAgentEnv(
  serverAddress: string,
  agentServer: string,
  enrollmentToken: string,
): Promise<Record<string, string>> {
  const keys = (await (await fetch(`${serverAddress}/v1/keys`)).json()) as PublicKeys;
  return {
    MODELFLEET_AGENT_SERVER: agentServer,
    MODELFLEET_AGENT_ENROLLMENT_TOKEN: enrollmentToken,
    MODELFLEET_AGENT_PUBLIC_KEY: keys.keys.map((key) => key.publicKey).join(','),
    MODELFLEET_AGENT_MIN_POLL_SECONDS: '0.2',
    MODELFLEET_AGENT_POLL_SECONDS: '1',
    MODELFLEET_AGENT_BACKOFF_BASE_SECONDS: '0.2',
    MODELFLEET_AGENT_BACKOFF_CAP_SECONDS: '2',
  };
}
