/**
 * Private PostgreSQL and Redis instances for the fault tests: each on a random free port in a temp folder of
 * its own, so a test can stop, kill and restart them without touching the machine's shared services on
 * 5432/6379 (other test files use those concurrently).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** Polls `condition` until it holds, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const isRoot = () => process.getuid?.() === 0;

/** As root, PostgreSQL refuses to run: its commands run as the `postgres` user, in a folder that user owns. */
async function asPostgres(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return run(file, argv, { maxBuffer: 16 * 1024 * 1024 });
}

export interface PrivatePostgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  url: string;
  /** `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint) or `fast`. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes everything. */
  cleanup(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-pg-'));
  const dataDir = path.join(dir, 'data');
  if (isRoot()) await run('chown', ['postgres:postgres', dir]);
  await asPostgres(`${PG_BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  let running = false;
  const start = async () => {
    await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-l', path.join(dir, 'log'), '-o', options, '-w', 'start']);
    running = true;
  };
  const stop = async (mode: 'immediate' | 'fast' = 'fast') => {
    if (!running) return;
    await asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dataDir, '-m', mode, '-w', 'stop']);
    running = false;
  };
  await start();
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async cleanup() {
      await stop('immediate').catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** SIGKILL: a crash, nothing flushed beyond what the append-only file already holds. */
  kill(): Promise<void>;
  start(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * redis-server on a free port. With `persistence`, every write is appended and fsynced before it is
 * acknowledged (appendonly yes, appendfsync always), so a kill -9 loses nothing acknowledged; without it,
 * a restart starts empty — and a BullMQ queue on it loses its jobs, by design.
 */
export async function startPrivateRedis(options: { persistence: boolean }): Promise<PrivateRedis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persistence ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--maxmemory-policy',
    'noeviction',
  ];
  const start = async () => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      `redis-server on ${port}`,
      () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
        return output.includes('Ready to accept connections');
      },
      20_000,
      50,
    );
  };
  const kill = async () => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null) return;
    const exited = once(current, 'exit');
    current.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async cleanup() {
      await kill();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
