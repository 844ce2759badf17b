import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelVersion } from '@modelfleet/contracts';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { demoModelDir } from '@modelfleet/demo-models';
import { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from '@modelfleet/jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { runCli, serverAddress, startServer, startWorker, type RunningProcess } from '../support/processes.js';
import { adminApi, blobFiles, newAdminKey } from './support/api.js';
import { waitFor } from './support/private-services.js';

const VARIANTS = ['theta4', 'int8-per-channel'];

/**
 * A worker is killed with SIGKILL while it evaluates the candidates of an optimize job (no shutdown, no
 * release of the job: its lock just stops being renewed). BullMQ's stalled-job check on the other worker
 * moves the job back to waiting once the lock expires (30 s by default) and that worker runs it again; the
 * job is idempotent, so the version ends ready with one candidate per variant, one winner, one release and
 * no blob twice or without its row.
 */
describe('a worker killed in the middle of an optimize job', () => {
  let workDir = '';
  let demo: DemoFiles;
  let database: TestDatabase | undefined;
  const prefix = uniquePrefix('fault-kill');
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    await redisAvailable(); // under CI=true a missing Redis fails here instead of skipping
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-kill-'));
    [demo, database] = await Promise.all([writeDemoFiles(workDir), createTestDatabase('postgres')]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await database?.cleanup();
    await removePrefix(prefix);
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('is retried by another worker: one candidate per variant, one winner, no duplicate blobs', async () => {
    const dataDir = path.join(workDir, 'data');
    const adminKey = newAdminKey();
    const env = {
      MODELFLEET_DATA_DIR: dataDir,
      DATABASE_URL: database!.databaseUrl!,
      REDIS_URL: testRedisUrl,
      QUEUE_PREFIX: prefix,
    };
    const server = startServer({ ...env, MODELFLEET_ADMIN_KEY: adminKey });
    running.push(server);
    const address = await serverAddress(server);
    const api = adminApi(() => address, adminKey);
    const first = startWorker({ ...env, WORKER_CPU_THREADS: '1' });
    running.push(first);
    await first.waitForLine((line) => line.msg === 'worker ready', 90_000);

    await api.createLine('kill-9', demo, { variants: VARIANTS, latencyRuns: 5 });
    const dataset = await api.uploadDataset('kill-9', demo.testSet, 'test', 'test');
    expect(dataset.status).toBe(201);
    const cliEnv = { MODELFLEET_SERVER: address, MODELFLEET_KEY: adminKey, MODELFLEET_CONFIG: path.join(workDir, 'c') };
    const uploaded = await runCli(
      ['upload', demoModelDir('mobilenet-v1-025-64'), '--line', 'kill-9', '--json'],
      cliEnv,
    );
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const versionId = (JSON.parse(uploaded.stdout) as { id: string }).id;
    const jobId = `optimize-${versionId}`;
    const versionUrl = `/v1/models/kill-9/versions/${versionId}`;

    // The middle of the job: the first worker has it and is evaluating candidates.
    await first.waitForLine((line) => line.msg === 'job started' && line.jobId === jobId, 60_000);
    await waitFor(
      'the evaluation under way',
      async () => {
        const version = await api.ok<ModelVersion>('GET', versionUrl);
        return version.progress.stage === 'evaluate' && version.progress.percent > 0;
      },
      120_000,
      200,
    );
    expect((await first.stop('SIGKILL', 5_000)).signal).toBe('SIGKILL');

    const second = startWorker({ ...env, WORKER_CPU_THREADS: '1' });
    running.push(second);
    await second.waitForLine((line) => line.msg === 'worker ready', 90_000);
    const version = await waitFor(
      'the version ready after the retry',
      async () => {
        const current = await api.ok<ModelVersion>('GET', versionUrl);
        if (current.status === 'failed') throw new Error(`version failed: ${JSON.stringify(current)}`);
        return current.status === 'ready' ? current : undefined;
      },
      240_000,
      500,
    );

    // The second worker ran it to the end, having picked it up as a stalled job.
    expect(second.lines.some((line) => line.msg === 'job started' && line.jobId === jobId)).toBe(true);
    expect(second.lines.some((line) => line.msg === 'job completed' && line.jobId === jobId)).toBe(true);

    const variants = version.candidates.map((candidate) => candidate.variant).sort();
    expect(variants).toEqual(['theta0', ...VARIANTS].sort());
    expect(version.candidates.filter((candidate) => candidate.winner)).toHaveLength(1);
    expect(version.releaseNumbers).toEqual([{ channel: 'stable', number: 1 }]);
    const releases = await api.ok<{ items: unknown[] }>('GET', '/v1/models/kill-9/releases');
    expect(releases.items).toHaveLength(1);

    // Blobs: content addressed, so "no duplicate" means each file once and each file with its row, and each
    // candidate's artifact on disk. The killed put may leave a temp file (removed at start-up once stale).
    const rows = await database!.db.prisma.blob.findMany({ select: { sha256: true } });
    const { blobs } = await blobFiles(dataDir);
    expect(new Set(blobs).size).toBe(blobs.length);
    expect(blobs).toEqual(rows.map((row) => row.sha256).sort());
    for (const candidate of version.candidates) expect(blobs).toContain(candidate.artifactSha256);
    const candidateRows = await database!.db.prisma.candidate.count({ where: { versionId } });
    expect(candidateRows).toBe(VARIANTS.length + 1);

    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
