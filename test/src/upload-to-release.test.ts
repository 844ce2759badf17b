import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VARIANTS, type ModelVersion, type PublicKeys, type Release } from '@modelfleet/contracts';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from '@modelfleet/jobs/testing';
import { publicKeyFromBase64, verifyEnvelope } from '@modelfleet/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoLineCreateArgs, writeDemoFiles, type DemoFiles } from './support/demo-data.js';
import { runCli, serverAddress, startServer, startWorker, type RunningProcess } from './support/processes.js';

function newAdminKey(): string {
  return `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Issue 4, acceptance 1, as an engineer does it with the CLI: create a line, add the test and
 * calibration sets, upload the demo model and wait; then every candidate of the policy has measured
 * figures and a release exists whose manifest verifies with /v1/keys and names the stored artifact.
 */
async function engineerFlow(
  address: string,
  adminKey: string,
  demo: DemoFiles,
  dataDir: string,
  line: string,
): Promise<ModelVersion> {
  const env = {
    MODELFLEET_SERVER: address,
    MODELFLEET_KEY: adminKey,
    MODELFLEET_CONFIG: path.join(dataDir, 'cli.json'),
  };
  const cli = async (...args: string[]) => {
    const result = await runCli(args, env);
    expect(result.code, `modelfleet ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };
  await cli(...demoLineCreateArgs(line, demo));
  await cli('datasets', 'add', demo.testSet, '--line', line, '--role', 'test');
  await cli('datasets', 'add', demo.calibrationSet, '--line', line, '--role', 'calibration');
  const version = JSON.parse(await cli('upload', demo.modelDir, '--line', line, '--wait', '--json')) as ModelVersion;

  expect(version.status).toBe('ready');
  expect(version.candidates.map((candidate) => candidate.variant).sort()).toEqual(['theta0', ...VARIANTS].sort());
  for (const candidate of version.candidates) {
    expect(candidate.fileBytes).toBeGreaterThan(0);
    expect(candidate.wireBytes).toBeGreaterThan(0);
    expect(candidate.latencyMedianMs).toBeGreaterThan(0);
    expect(candidate.latencyP90Ms).toBeGreaterThanOrEqual(candidate.latencyMedianMs);
    expect(candidate.accuracy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(candidate.objective)).toBe(true);
    expect(candidate.accuracySimulated).toBe(candidate.variant === 'theta2' || candidate.variant === 'theta3');
  }
  const theta0 = version.candidates.find((candidate) => candidate.variant === 'theta0')!;
  expect(theta0.objective).toBe(0);
  const winner = version.candidates.find((candidate) => candidate.winner);
  expect(winner).toBeDefined();
  expect(version.selection?.winnerVariant).toBe(winner!.variant);
  expect(version.releaseNumbers).toEqual([{ channel: 'stable', number: 1 }]);

  const releases = JSON.parse(await cli('releases', '--line', line, '--json')) as { items: Release[] };
  expect(releases.items).toHaveLength(1);
  const release = releases.items[0]!;
  const keys = (await (await fetch(`${address}/v1/keys`)).json()) as PublicKeys;
  const manifest = verifyEnvelope<Release['manifest']['signed']>(
    'release-manifest',
    release.manifest,
    keys.keys.map((key) => publicKeyFromBase64(key.publicKey)),
  );
  expect(manifest).toMatchObject({ line, channel: 'stable', release: 1, artifact: { sha256: winner!.artifactSha256 } });
  const blob = await fs.readFile(
    path.join(
      dataDir,
      'blobs',
      manifest.artifact.sha256.slice(0, 2),
      manifest.artifact.sha256.slice(2, 4),
      manifest.artifact.sha256,
    ),
  );
  expect(createHash('sha256').update(blob).digest('hex')).toBe(manifest.artifact.sha256);
  expect(blob.length).toBe(manifest.artifact.size);
  return version;
}

describe('upload to published release', () => {
  let workDir = '';
  let demo: DemoFiles;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-'));
    demo = await writeDemoFiles(workDir);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('on the embedded default (PGlite, in-process jobs)', async () => {
    const dataDir = path.join(workDir, 'embedded');
    const adminKey = newAdminKey();
    const server = startServer({
      MODELFLEET_DATA_DIR: dataDir,
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
    });
    running.push(server);
    await engineerFlow(await serverAddress(server), adminKey, demo, dataDir, 'sorter');
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 300_000);

  describe('on PostgreSQL and Redis with two worker processes', () => {
    let database: TestDatabase | undefined;
    const prefix = uniquePrefix('e2e');
    afterAll(async () => {
      await database?.cleanup();
      await removePrefix(prefix);
    });

    it('runs the same flow, the optimize job on one of the workers', async () => {
      await redisAvailable(); // under CI=true a missing Redis fails here instead of skipping
      database = await createTestDatabase('postgres');
      const dataDir = path.join(workDir, 'distributed');
      const adminKey = newAdminKey();
      const env = {
        MODELFLEET_DATA_DIR: dataDir,
        DATABASE_URL: database.databaseUrl!,
        REDIS_URL: testRedisUrl,
        QUEUE_PREFIX: prefix,
      };
      const server = startServer({ ...env, MODELFLEET_ADMIN_KEY: adminKey });
      running.push(server);
      const address = await serverAddress(server);
      // The server created the signing key in the shared data folder; the workers read it there.
      const workers = [
        startWorker({ ...env, WORKER_CPU_THREADS: '1' }),
        startWorker({ ...env, WORKER_CPU_THREADS: '1' }),
      ];
      running.push(...workers);
      await Promise.all(workers.map((worker) => worker.waitForLine((line) => line.msg === 'worker ready', 90_000)));

      const version = await engineerFlow(address, adminKey, demo, dataDir, 'sorter-pg');

      const ranOn = workers.filter((worker) =>
        worker.lines.some((line) => line.msg === 'job completed' && line.jobId === `optimize-${version.id}`),
      );
      expect(ranOn).toHaveLength(1);
      for (const worker of workers) expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }, 300_000);
  });
});
