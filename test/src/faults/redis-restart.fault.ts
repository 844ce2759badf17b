import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelVersion } from '@modelfleet/contracts';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { demoModelDir } from '@modelfleet/demo-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { runCli, serverAddress, startServer, startWorker, type RunningProcess } from '../support/processes.js';
import { adminApi, newAdminKey } from './support/api.js';
import { startPrivateRedis, waitFor, type PrivateRedis } from './support/private-services.js';

/**
 * Redis crashes (SIGKILL on a private instance) with an optimize job queued and no worker running, and comes
 * back on the same port and folder. Redis runs with persistence (appendonly yes, appendfsync always): a queue
 * on a Redis without persistence loses its jobs on a restart by design, which is why production runs it with
 * the append-only file. /readyz says the queue is down while Redis is, the server reconnects by itself, and a
 * worker started afterwards finds the job and runs it: the version ends ready with its release.
 */
describe('Redis restarted with a job queued', () => {
  let workDir = '';
  let demo: DemoFiles;
  let database: TestDatabase | undefined;
  let redis: PrivateRedis | undefined;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-redis-'));
    [demo, database, redis] = await Promise.all([
      writeDemoFiles(workDir),
      createTestDatabase('postgres'),
      startPrivateRedis({ persistence: true }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await database?.cleanup();
    await redis?.cleanup();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('keeps the job: a worker started after the restart runs it', async () => {
    const dataDir = path.join(workDir, 'data');
    const adminKey = newAdminKey();
    const env = { MODELFLEET_DATA_DIR: dataDir, DATABASE_URL: database!.databaseUrl!, REDIS_URL: redis!.url };
    const server = startServer({ ...env, MODELFLEET_ADMIN_KEY: adminKey });
    running.push(server);
    const address = await serverAddress(server);
    const api = adminApi(() => address, adminKey);
    await api.createLine('redis-restart', demo, { variants: ['theta4'], latencyRuns: 5 });
    expect((await api.uploadDataset('redis-restart', demo.testSet, 'test', 'test')).status).toBe(201);
    const cliEnv = { MODELFLEET_SERVER: address, MODELFLEET_KEY: adminKey, MODELFLEET_CONFIG: path.join(workDir, 'c') };
    const uploaded = await runCli(
      ['upload', demoModelDir('mobilenet-v1-025-64'), '--line', 'redis-restart', '--json'],
      cliEnv,
    );
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const versionId = (JSON.parse(uploaded.stdout) as { id: string }).id;
    const versionUrl = `/v1/models/redis-restart/versions/${versionId}`;
    expect((await api.ok<ModelVersion>('GET', versionUrl)).status).toBe('uploaded');

    await redis!.kill();
    const down = await waitFor('/readyz not-ready', async () => {
      const response = await fetch(`${address}/readyz`);
      return response.status === 503 ? ((await response.json()) as { checks: Record<string, { ok: boolean }> }) : false;
    });
    expect(down.checks.queue!.ok).toBe(false);
    expect(down.checks.database!.ok).toBe(true);

    await redis!.start();
    await waitFor('/readyz ready again', async () => (await api.readyz()) === 200, 60_000);

    const worker = startWorker({ ...env, WORKER_CPU_THREADS: '1' });
    running.push(worker);
    await worker.waitForLine((line) => line.msg === 'worker ready', 90_000);
    const version = await waitFor(
      'the queued version ready',
      async () => {
        const current = await api.ok<ModelVersion>('GET', versionUrl);
        if (current.status === 'failed') throw new Error(`version failed: ${JSON.stringify(current)}`);
        return current.status === 'ready' ? current : undefined;
      },
      240_000,
      500,
    );
    expect(worker.lines.some((line) => line.msg === 'job completed' && line.jobId === `optimize-${versionId}`)).toBe(
      true,
    );
    expect(version.candidates.map((candidate) => candidate.variant).sort()).toEqual(['theta0', 'theta4']);
    expect(version.releaseNumbers).toEqual([{ channel: 'stable', number: 1 }]);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
