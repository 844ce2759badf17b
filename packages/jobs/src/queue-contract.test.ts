import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullMqQueue } from './bullmq/bullmq-queue.js';
import { createBullMqWorker, type JobWorker } from './bullmq/bullmq-worker.js';
import { createInProcessQueue } from './in-process-queue.js';
import type { JobEvents, JobQueue } from './job-queue.js';
import { createContractCatalog, type ContractServices } from './testing/contract-catalog.js';
import { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from './testing/redis.js';
import { waitForJob } from './wait-for-job.js';

type ContractQueue = JobQueue<ReturnType<typeof createContractCatalog>>;

interface Host {
  queue: ContractQueue;
  services: ContractServices;
  close(): Promise<void>;
}

const catalog = createContractCatalog();
const hasRedis = await redisAvailable();

/** The same semantics, asserted against each driver. */
const drivers: { name: string; skip: boolean; start: () => Promise<Host> }[] = [
  {
    name: 'in-process',
    skip: false,
    async start() {
      const services: ContractServices = { attempts: new Map() };
      const queue = createInProcessQueue(catalog, { services, concurrency: 2, cpu: { size: 1 } });
      return { queue, services, close: () => queue.close({ timeoutMs: 2000 }) };
    },
  },
  {
    name: 'bullmq',
    skip: !hasRedis,
    async start() {
      const services: ContractServices = { attempts: new Map() };
      const prefix = uniquePrefix('contract');
      const queue = await createBullMqQueue(catalog, { redisUrl: testRedisUrl, prefix });
      const worker: JobWorker = await createBullMqWorker(catalog, {
        redisUrl: testRedisUrl,
        prefix,
        services,
        concurrency: 2,
        cpu: { size: 1 },
      });
      return {
        queue,
        services,
        async close() {
          await worker.close({ timeoutMs: 2000 });
          await queue.close();
          await removePrefix(prefix);
        },
      };
    },
  },
];

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.name} driver`, () => {
    let host: Host;
    beforeAll(async () => {
      host = await driver.start();
    });
    afterAll(() => host.close());

    function collect<Event extends keyof JobEvents>(event: Event, jobId: () => string): JobEvents[Event][] {
      const seen: JobEvents[Event][] = [];
      host.queue.on(event, (payload) => {
        if (payload.jobId === jobId()) seen.push(payload);
      });
      return seen;
    }

    it('runs a job, reporting progress and completion', async () => {
      let jobId = '';
      const progress = collect('progress', () => jobId);
      const completed = collect('completed', () => jobId);
      ({ jobId } = await host.queue.enqueue('test.echo', { text: 'hello', steps: 4 }));
      const job = await waitForJob(host.queue, jobId, { timeoutMs: 10_000 });
      expect(job).toMatchObject({
        id: jobId,
        name: 'test.echo',
        state: 'completed',
        payload: { text: 'hello', steps: 4 },
        result: { echoed: 'HELLO', attempt: 1 },
        progress: { stage: 'echoing', percent: 100 },
        attemptsMade: 1,
        attempts: 1,
        failedReason: undefined,
      });
      expect(completed).toEqual([{ jobId, result: { echoed: 'HELLO', attempt: 1 } }]);
      await expect.poll(() => progress.map((event) => event.progress.percent)).toEqual([25, 50, 75, 100]);
    });

    it('retries a transient failure with exponential backoff', async () => {
      const { jobId } = await host.queue.enqueue('test.flaky', { failures: 2 });
      const job = await waitForJob(host.queue, jobId, { timeoutMs: 10_000 });
      expect(job).toMatchObject({
        state: 'completed',
        result: { succeededOnAttempt: 3 },
        attemptsMade: 3,
        attempts: 3,
      });
      const [first = 0, second = 0, third = 0] = host.services.attempts.get(jobId) ?? [];
      // 150 ms before the first retry, 300 ms before the second (a few ms of clock granularity allowed).
      expect(second - first).toBeGreaterThanOrEqual(145);
      expect(third - second).toBeGreaterThanOrEqual(295);
    });

    it('fails once the attempts run out, with the code of the last error', async () => {
      let jobId = '';
      const failed = collect('failed', () => jobId);
      ({ jobId } = await host.queue.enqueue('test.flaky', { failures: 5 }));
      const job = await waitForJob(host.queue, jobId, { timeoutMs: 10_000 });
      expect(job).toMatchObject({
        state: 'failed',
        attemptsMade: 3,
        failedCode: 'MF_ERR_TEST_TRANSIENT',
        failedReason: 'MF_ERR_TEST_TRANSIENT: attempt 3 failed',
        result: undefined,
      });
      expect(host.services.attempts.get(jobId)).toHaveLength(3);
      // Only the final failure is an event; failed attempts that are retried are not.
      expect(failed).toEqual([
        { jobId, reason: 'MF_ERR_TEST_TRANSIENT: attempt 3 failed', code: 'MF_ERR_TEST_TRANSIENT' },
      ]);
    });

    it('reports each finished job once, with its name, outcome and duration (for metrics)', async () => {
      let echoId = '';
      let refusedId = '';
      const echoed = collect('finished', () => echoId);
      const refused = collect('finished', () => refusedId);
      ({ jobId: echoId } = await host.queue.enqueue('test.echo', { text: 'timed', steps: 2 }));
      ({ jobId: refusedId } = await host.queue.enqueue('test.refused', { how: 'permanent' }));
      await waitForJob(host.queue, echoId, { timeoutMs: 10_000 });
      await waitForJob(host.queue, refusedId, { timeoutMs: 10_000 });
      await expect.poll(() => echoed.length + refused.length).toBe(2);
      expect(echoed).toEqual([
        { jobId: echoId, name: 'test.echo', outcome: 'completed', durationMs: expect.any(Number), code: undefined },
      ]);
      expect(refused).toEqual([
        {
          jobId: refusedId,
          name: 'test.refused',
          outcome: 'failed',
          durationMs: expect.any(Number),
          code: 'MF_ERR_TEST_UNUSABLE',
        },
      ]);
      expect(echoed[0]?.durationMs).toBeGreaterThanOrEqual(0);
    });

    it.each(['permanent', '4xx'] as const)('fails a %s failure without retrying', async (how) => {
      const { jobId } = await host.queue.enqueue('test.refused', { how });
      const job = await waitForJob(host.queue, jobId, { timeoutMs: 10_000 });
      expect(job).toMatchObject({
        state: 'failed',
        attemptsMade: 1,
        attempts: 3,
        failedCode: how === 'permanent' ? 'MF_ERR_TEST_UNUSABLE' : 'MF_ERR_TEST_BAD_INPUT',
      });
      expect(host.services.attempts.get(jobId)).toHaveLength(1);
    });

    it('deduplicates by jobId', async () => {
      const jobId = `dedup-${driver.name}`;
      const first = await host.queue.enqueue('test.echo', { text: 'once', steps: 1 }, { jobId });
      const second = await host.queue.enqueue('test.echo', { text: 'twice', steps: 1 }, { jobId });
      expect(second.jobId).toBe(first.jobId);
      const job = await waitForJob(host.queue, jobId, { timeoutMs: 10_000 });
      expect(job.result).toEqual({ echoed: 'ONCE', attempt: 1 });
      // Enqueued again after it finished: still the same job, not run again.
      await host.queue.enqueue('test.echo', { text: 'thrice', steps: 1 }, { jobId });
      expect((await host.queue.getJob(jobId))?.state).toBe('completed');
      expect(host.services.attempts.get(jobId)).toHaveLength(1);
    });

    it('runs CPU work on the thread pool', async () => {
      const { jobId } = await host.queue.enqueue('test.spin', { ms: 50 });
      expect((await waitForJob(host.queue, jobId, { timeoutMs: 10_000 })).result).toEqual({ spun: true });
    });

    it('refuses invalid payloads, unknown jobs and bad job ids at enqueue', async () => {
      // @ts-expect-error -- wrong payload type, refused at run time too
      await expect(host.queue.enqueue('test.echo', { text: 1, steps: 1 })).rejects.toMatchObject({
        code: 'MF_ERR_JOB_PAYLOAD_INVALID',
        statusCode: 400,
      });
      // @ts-expect-error -- not in the catalog
      await expect(host.queue.enqueue('test.nope', {})).rejects.toMatchObject({ code: 'MF_ERR_JOB_UNKNOWN' });
      for (const jobId of ['123', 'a:b', '']) {
        await expect(host.queue.enqueue('test.echo', { text: 'x', steps: 1 }, { jobId })).rejects.toMatchObject({
          code: 'MF_ERR_JOB_ID_INVALID',
        });
      }
    });

    it('answers ping and reports an unknown job as undefined', async () => {
      await expect(host.queue.ping()).resolves.toBeUndefined();
      expect(await host.queue.getJob('no-such-job')).toBeUndefined();
    });
  });
}
