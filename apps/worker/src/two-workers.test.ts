import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog, type BlobDigestResult } from '@modelfleet/catalog';
import { createBullMqQueue, createInProcessQueue, waitForJob, type JobQueue } from '@modelfleet/jobs';
import { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from '@modelfleet/jobs/testing';
import { createTestDatabase, postgresTestAvailability, type TestDatabase } from '@modelfleet/db/testing';
import { generateSigningKey, signingKeyToPem } from '@modelfleet/signing';
import { createFsBlobStore, type BlobStore } from '@modelfleet/storage';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type WorkerProcess } from './worker-process.fixture.js';

const hasRedis = await redisAvailable();
// The workers open the server's PostgreSQL (the catalog's services include the database).
const postgres = await postgresTestAvailability();
const hasPostgres = postgres.available || postgres.required;
const signingKey = generateSigningKey();

/**
 * Issue 2's acceptance: the same jobs through BullMQ with two separate worker processes and
 * through the in-process driver give identical results, and both processes did work.
 */
describe.skipIf(!hasRedis || !hasPostgres)('blob.digest on two worker processes and in-process', () => {
  const prefix = uniquePrefix('workers');
  let blobRoot: string;
  let blobs: BlobStore;
  let database: TestDatabase;
  let workers: WorkerProcess[] = [];
  let queue: JobQueue<ReturnType<typeof createCatalog>> | undefined;
  const addresses: string[] = [];

  beforeAll(async () => {
    blobRoot = await mkdtemp(join(tmpdir(), 'mf-workers-'));
    database = await createTestDatabase('postgres');
    blobs = await createFsBlobStore({ root: blobRoot });
    // Blobs of different sizes and entropies: random, text-like and constant bytes.
    for (let index = 0; index < 8; index++) {
      const size = 2 * 1024 * 1024 + index * 4099;
      const bytes =
        index % 3 === 0
          ? randomBytes(size)
          : index % 3 === 1
            ? Buffer.from(Array.from({ length: size }, (_, at) => 97 + ((at * 7 + index) % 26)))
            : Buffer.alloc(size, index);
      addresses.push((await blobs.put(bytes)).sha256);
    }
    const env = {
      REDIS_URL: testRedisUrl,
      DATABASE_URL: database.databaseUrl ?? '',
      MODELFLEET_SIGNING_KEY: signingKeyToPem(signingKey),
      MODELFLEET_DATA_DIR: blobRoot,
      BLOB_DIR: blobRoot,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: '1',
      WORKER_CPU_THREADS: '1',
      LOG_LEVEL: 'info',
    };
    workers = [spawnWorker(env), spawnWorker(env)];
    await Promise.all(workers.map((worker) => worker.waitForLine((line) => line.msg === 'worker ready', 30_000)));
  }, 60_000);

  afterAll(async () => {
    await queue?.close();
    await Promise.all(workers.map((worker) => worker.stop()));
    await removePrefix(prefix);
    await database.cleanup();
    await rm(blobRoot, { recursive: true, force: true });
  });

  async function digestAll(
    through: JobQueue<ReturnType<typeof createCatalog>>,
  ): Promise<Map<string, BlobDigestResult>> {
    const jobIds = await Promise.all(
      addresses.map(
        async (sha256) => (await through.enqueue('blob.digest', { sha256 }, { jobId: `digest-${sha256}` })).jobId,
      ),
    );
    const results = new Map<string, BlobDigestResult>();
    for (const [index, jobId] of jobIds.entries()) {
      const job = await waitForJob(through, jobId, { timeoutMs: 30_000 });
      expect(job.state, job.failedReason).toBe('completed');
      results.set(addresses[index] as string, job.result as BlobDigestResult);
    }
    return results;
  }

  it('gives identical results, and both processes did work, then stops on SIGTERM with exit 0', async () => {
    queue = await createBullMqQueue(createCatalog(), { redisUrl: testRedisUrl, prefix });
    const viaWorkers = await digestAll(queue);

    // The same services a worker process builds (see worker.ts).
    const services = { db: database.db, blobs, signingKey, logger: pino({ enabled: false }) };
    const inProcess = createInProcessQueue(createCatalog(), { services, cpu: { size: 1 } });
    const viaInProcess = await digestAll(inProcess).finally(() => inProcess.close());

    expect(viaWorkers.size).toBe(addresses.length);
    expect(viaWorkers).toEqual(viaInProcess);
    for (const [sha256, result] of viaWorkers) expect(result.sha256).toBe(sha256);
    const entropies = [...viaWorkers.values()].map((result) => result.entropyBitsPerByte);
    expect(Math.max(...entropies)).toBeGreaterThan(7.9); // random bytes
    expect(Math.min(...entropies)).toBe(0); // constant bytes

    // Each job was completed by exactly one process, and each process completed some.
    const completedBy = workers.map(
      (worker) =>
        new Set(worker.lines.filter((line) => line.msg === 'job completed').map((line) => line.jobId as string)),
    );
    const [first = new Set<string>(), second = new Set<string>()] = completedBy;
    expect(first.size).toBeGreaterThan(0);
    expect(second.size).toBeGreaterThan(0);
    expect(first.size + second.size).toBe(addresses.length);
    expect([...first].filter((jobId) => second.has(jobId))).toEqual([]);

    expect(await Promise.all(workers.map((worker) => worker.stop()))).toEqual([0, 0]);
    for (const worker of workers) expect(worker.lines.some((line) => line.msg === 'worker stopped')).toBe(true);
  }, 90_000);
});
