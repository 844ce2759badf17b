/** Process plumbing of bench:fleet: children, readiness, the autocannon load run, a process's CPU time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  /** CPU time (user + system) the server process used during the run. */
  serverCpuSeconds?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** Starts `node <argv>`; its stdout (the server's JSON log) goes to `logFd` when given, else nowhere. */
export function startNode(cwd: string, argv: string[], env: Record<string, string> = {}, logFd?: number): ChildProcess {
  return spawn(process.execPath, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', logFd ?? 'ignore', 'inherit'],
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function waitUntilUp(child: ChildProcess, base: string, deadlineMs = 90_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it answered`);
    const ok = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${base} did not come up within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * CPU seconds (user + system) of a process so far, from /proc/<pid>/stat — what `process.cpuUsage()` reports
 * inside that process, read from outside it. Undefined where there is no /proc.
 */
export async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces, inside parentheses): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** One autocannon run from its own process (bench/poll-load.ts), with the server's CPU time over the run. */
export async function runLoad(
  appRoot: string,
  url: string,
  tokensFile: string,
  runSeconds: number,
  connections: number,
  serverPid: number | undefined,
): Promise<LoadResult> {
  const before = await cpuSecondsOf(serverPid);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/poll-load.ts', url, tokensFile, String(runSeconds), String(connections)],
    { cwd: appRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const after = await cpuSecondsOf(serverPid);
  const result = JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
  if (before !== undefined && after !== undefined) result.serverCpuSeconds = after - before;
  return result;
}
