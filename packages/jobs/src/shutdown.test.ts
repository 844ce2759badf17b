import { afterAll, describe, expect, it } from 'vitest';
import { createBullMqQueue } from './bullmq/bullmq-queue.js';
import { createBullMqWorker } from './bullmq/bullmq-worker.js';
import { createInProcessQueue } from './in-process-queue.js';
import { createContractCatalog, type ContractServices } from './testing/contract-catalog.js';
import { createGate, holdUntilAborted } from './testing/hold.js';
import { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from './testing/redis.js';
import { waitForJob } from './wait-for-job.js';
import type { JobQueue } from './job-queue.js';

const catalog = createContractCatalog();
const hasRedis = await redisAvailable();

async function waitForState(queue: JobQueue<typeof catalog>, jobId: string, state: string): Promise<void> {
  await expect.poll(async () => (await queue.getJob(jobId))?.state, { timeout: 10_000, interval: 20 }).toBe(state);
}

describe('in-process close', () => {
  it('waits for an in-flight job that finishes within the timeout', async () => {
    const gate = createGate();
    const services: ContractServices = { attempts: new Map(), hold: gate.hold };
    const queue = createInProcessQueue(catalog, { services, cpu: { size: 1 } });
    const { jobId } = await queue.enqueue('test.hold', {});
    await waitForState(queue, jobId, 'active');
    let closed = false;
    const closing = queue.close({ timeoutMs: 5000 }).then(() => (closed = true));
    await expect(queue.enqueue('test.echo', { text: 'late', steps: 1 })).rejects.toMatchObject({
      code: 'MF_ERR_JOB_QUEUE_CLOSED',
    });
    expect(closed).toBe(false);
    gate.release();
    await closing;
    expect((await queue.getJob(jobId))?.state).toBe('completed');
  });

  it('aborts an in-flight job past the timeout and fails it with MF_ERR_JOB_ABORTED', async () => {
    const services: ContractServices = { attempts: new Map(), hold: holdUntilAborted };
    const queue = createInProcessQueue(catalog, { services, cpu: { size: 1 } });
    const { jobId } = await queue.enqueue('test.hold', {});
    await waitForState(queue, jobId, 'active');
    await queue.close({ timeoutMs: 100 });
    expect(await queue.getJob(jobId)).toMatchObject({ state: 'failed', failedCode: 'MF_ERR_JOB_ABORTED' });
  });
});

describe.skipIf(!hasRedis)('BullMQ worker close', () => {
  const prefix = uniquePrefix('shutdown');
  afterAll(() => removePrefix(prefix));

  it('releases a job still running at the timeout, without spending an attempt, for another worker', async () => {
    const queue = await createBullMqQueue(catalog, { redisUrl: testRedisUrl, prefix });
    const stubborn: ContractServices = { attempts: new Map(), hold: holdUntilAborted };
    const first = await createBullMqWorker(catalog, {
      redisUrl: testRedisUrl,
      prefix,
      services: stubborn,
      cpu: { size: 1 },
    });
    const { jobId } = await queue.enqueue('test.hold', {});
    await waitForState(queue, jobId, 'active');

    await first.close({ timeoutMs: 200 });
    expect(await queue.getJob(jobId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });

    const willing: ContractServices = { attempts: new Map(), hold: async () => undefined };
    const second = await createBullMqWorker(catalog, {
      redisUrl: testRedisUrl,
      prefix,
      services: willing,
      cpu: { size: 1 },
    });
    try {
      const job = await waitForJob(queue, jobId, { timeoutMs: 10_000 });
      expect(job).toMatchObject({ state: 'completed', result: { held: true }, attemptsMade: 1 });
      expect(stubborn.attempts.get(jobId)).toHaveLength(1);
      expect(willing.attempts.get(jobId)).toHaveLength(1);
    } finally {
      await second.close();
      await queue.close();
    }
  });

  it('aborts a running CPU task when releasing, so close does not wait for the thread', async () => {
    const queue = await createBullMqQueue(catalog, { redisUrl: testRedisUrl, prefix });
    const services: ContractServices = { attempts: new Map() };
    const worker = await createBullMqWorker(catalog, { redisUrl: testRedisUrl, prefix, services, cpu: { size: 1 } });
    const { jobId } = await queue.enqueue('test.spin', { ms: 60_000 });
    await waitForState(queue, jobId, 'active');
    const started = performance.now();
    await worker.close({ timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await queue.getJob(jobId)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    await queue.close();
  });
});

describe.skipIf(!hasRedis)('BullMQ lock renewal', () => {
  const prefix = uniquePrefix('locks');
  afterAll(() => removePrefix(prefix));

  it('keeps the lock of a job whose CPU work outlasts the lock several times over', async () => {
    const queue = await createBullMqQueue(catalog, { redisUrl: testRedisUrl, prefix });
    const services: ContractServices = { attempts: new Map() };
    // A 600 ms lock and 2 s of CPU: the lock survives only if it is renewed while the work runs.
    const worker = await createBullMqWorker(catalog, {
      redisUrl: testRedisUrl,
      prefix,
      services,
      cpu: { size: 1 },
      lockDurationMs: 600,
    });
    try {
      const { jobId } = await queue.enqueue('test.spin', { ms: 2000 });
      const job = await waitForJob(queue, jobId, { timeoutMs: 15_000 });
      expect(job).toMatchObject({ state: 'completed', attemptsMade: 1 });
      expect(services.attempts.get(jobId)).toHaveLength(1);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
