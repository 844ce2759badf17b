import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverAddress, startProcess, startServer, type RunningProcess } from './support/processes.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;

/**
 * Issue 2, acceptance 1: `npm start` on a fresh data folder serves /readyz 200 with no PostgreSQL or
 * Redis configured; a signal shuts it down gracefully and leaves the folder consistent for a restart.
 */
describe('npm start (embedded default)', () => {
  const running: RunningProcess[] = [];
  let dataDir = '';
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves /readyz with PGlite and the in-process queue, stops on SIGTERM and restarts on the same data', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-start-'));
    const env = {
      MODELFLEET_DATA_DIR: dataDir,
      PORT: '0',
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
    };
    const npmStart = startProcess('npm', ['start'], { env, group: true });
    running.push(npmStart);
    const address = await serverAddress(npmStart, 120_000);

    const ready = await fetch(`${address}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean; driver: string }> };
    expect(body.checks.database).toMatchObject({ ok: true, driver: 'pglite' });
    expect(body.checks.queue).toMatchObject({ ok: true, driver: 'in-process' });
    expect(body.checks.blobs).toMatchObject({ ok: true, driver: 'fs' });

    const created = await fetch(`${address}/v1/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'restart-check', preprocessing: { inputSize: [64, 64], classNames: ['a', 'b'] } }),
    });
    expect(created.status).toBe(201);

    // As Ctrl-C does: the signal reaches npm, turbo and the server; the server closes PGlite and removes
    // its lock file only at the end of a graceful shutdown (turbo stops relaying output once signalled,
    // so the lock file, not the log, tells).
    const serverPid = Number((await fs.readFile(path.join(dataDir, 'server.pid'), 'utf8')).trim());
    await npmStart.stop('SIGTERM');
    await waitUntil(() => !isAlive(serverPid), 30_000);
    await expect(fs.access(path.join(dataDir, 'server.pid'))).rejects.toThrow();

    // The same folder again, now the server process alone: its own exit code is checked.
    const again = startServer(env);
    running.push(again);
    const secondAddress = await serverAddress(again);
    expect((await fetch(`${secondAddress}/readyz`)).status).toBe(200);
    const line = await fetch(`${secondAddress}/v1/models/restart-check`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(line.status).toBe(200);
    expect(await again.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 240_000);

  it('refuses a second server on a data folder that is in use', async () => {
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-lock-'));
    try {
      const first = startServer({ MODELFLEET_DATA_DIR: folder, DATABASE_URL: undefined, REDIS_URL: undefined });
      running.push(first);
      await serverAddress(first);
      const second = startServer({ MODELFLEET_DATA_DIR: folder, DATABASE_URL: undefined, REDIS_URL: undefined });
      running.push(second);
      const exit = await second.exited;
      expect(exit.code).toBe(1);
      expect(second.output()).toContain('MF_ERR_DATA_DIR_LOCKED');
      expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  }, 180_000);

  it('fails fast with every bad variable named', async () => {
    const bad = startServer({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: undefined,
    });
    running.push(bad);
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    const output = bad.output();
    expect(output).toContain('PORT');
    expect(output).toContain('LOG_LEVEL');
    expect(output).toContain('REDIS_URL: needs DATABASE_URL');
  }, 60_000);
});
