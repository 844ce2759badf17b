import type { Logger } from 'pino';
import { pino } from 'pino';
import type { CatalogServices, JobCatalog, JobName, JobPayload } from './catalog.js';
import { assertValidJobId, assertValidPayload } from './catalog.js';
import { createCpuPool, isCpuPool, type CpuPool, type CpuPoolOptions } from './cpu/cpu-pool.js';
import { settledWithin } from './timeouts.js';
import { JobAborted, JobQueueClosed } from './errors.js';
import type { AnyJobDefinition } from './job-definition.js';
import { backoffDelay } from './job-definition.js';
import type { JobProgress } from './job-context.js';
import { JobEventHub } from './job-events.js';
import type { EnqueueOptions, JobQueue, JobSnapshot, JobState } from './job-queue.js';
import { failureReason, isPermanentFailure, parseFailureReason } from './permanent-failure.js';
import { runAttempt } from './run-attempt.js';

export interface InProcessQueueOptions<Services> {
  /** What processors get as `ctx.services`. */
  services: Services;
  /** Jobs processed at the same time; default 1. */
  concurrency?: number;
  /** A pool to share, or options for one the queue creates (and closes). */
  cpu?: CpuPool | CpuPoolOptions;
  logger?: Logger;
  /** Finished jobs kept for `getJob` and deduplication; default 10 000, like the BullMQ driver. */
  keepFinished?: number;
}

interface JobRecord {
  id: string;
  job: AnyJobDefinition;
  payload: unknown;
  state: JobState;
  progress: JobProgress | undefined;
  result: unknown;
  failedReason: string | undefined;
  attemptsMade: number;
  retryTimer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
}

/**
 * The embedded driver: runs the catalog's processors in this process (their CPU parts on the
 * thread pool), with the BullMQ driver's semantics for retries, backoff, permanent failures,
 * progress, events and deduplication. Jobs live in memory: those not finished at close are lost,
 * which is why the embedded host must be able to enqueue again on start-up (idempotent jobs).
 */
export function createInProcessQueue<Catalog extends JobCatalog>(
  catalog: Catalog,
  options: InProcessQueueOptions<CatalogServices<Catalog>>,
): JobQueue<Catalog> {
  const logger = options.logger ?? pino({ enabled: false });
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const keepFinished = options.keepFinished ?? 10_000;
  const ownsCpu = !isCpuPool(options.cpu);
  const cpu = isCpuPool(options.cpu) ? options.cpu : createCpuPool(options.cpu);
  const events = new JobEventHub(logger);
  const records = new Map<string, JobRecord>();
  const finished: string[] = [];
  const ready: JobRecord[] = [];
  const active = new Set<Promise<void>>();
  let nextId = 1;
  let closed = false;

  function pump(): void {
    while (!closed && active.size < concurrency && ready.length > 0) {
      const record = ready.shift() as JobRecord;
      const running = runJob(record).finally(() => {
        active.delete(running);
        pump();
      });
      active.add(running);
    }
  }

  async function runJob(record: JobRecord): Promise<void> {
    record.state = 'active';
    record.abort = new AbortController();
    const attempt = record.attemptsMade + 1;
    const startedAt = performance.now();
    try {
      const result = await runAttempt(record.job, record.payload, {
        jobId: record.id,
        attempt,
        services: options.services,
        cpu,
        logger,
        signal: record.abort.signal,
        reportProgress: async (progress) => {
          record.progress = progress;
          events.emit('progress', { jobId: record.id, progress });
        },
      });
      record.attemptsMade = attempt;
      record.state = 'completed';
      record.result = result;
      retire(record);
      events.emit('completed', { jobId: record.id, result });
      events.emit('finished', {
        jobId: record.id,
        name: record.job.name,
        outcome: 'completed',
        durationMs: performance.now() - startedAt,
        code: undefined,
      });
    } catch (error) {
      record.attemptsMade = attempt;
      const aborted = record.abort.signal.aborted;
      const reason = aborted ? failureReason(new JobAborted(record.id, 'the queue closed')) : failureReason(error);
      if (aborted || isPermanentFailure(error) || attempt >= record.job.attempts) {
        record.state = 'failed';
        record.failedReason = reason;
        retire(record);
        logger.warn({ jobId: record.id, job: record.job.name, attempt, err: error }, 'job failed');
        const code = parseFailureReason(reason).code;
        events.emit('failed', { jobId: record.id, reason, code });
        events.emit('finished', {
          jobId: record.id,
          name: record.job.name,
          outcome: 'failed',
          durationMs: performance.now() - startedAt,
          code,
        });
      } else {
        const delay = backoffDelay(record.job.backoff, attempt + 1);
        logger.info(
          { jobId: record.id, job: record.job.name, attempt, delay, err: error },
          'job attempt failed, retrying',
        );
        record.state = 'delayed';
        record.failedReason = reason;
        record.retryTimer = setTimeout(() => {
          record.retryTimer = undefined;
          record.state = 'waiting';
          ready.push(record);
          pump();
        }, delay);
      }
    } finally {
      record.abort = undefined;
    }
  }

  function retire(record: JobRecord): void {
    finished.push(record.id);
    while (finished.length > keepFinished) records.delete(finished.shift() as string);
  }

  return {
    async enqueue<Name extends JobName<Catalog>>(
      name: Name,
      payload: JobPayload<Catalog, Name>,
      enqueueOptions: EnqueueOptions = {},
    ) {
      if (closed) throw new JobQueueClosed();
      const job = catalog.get(name);
      assertValidPayload(job, payload);
      if (enqueueOptions.jobId !== undefined) {
        assertValidJobId(enqueueOptions.jobId);
        if (records.has(enqueueOptions.jobId)) return { jobId: enqueueOptions.jobId };
      }
      const id = enqueueOptions.jobId ?? String(nextId++);
      const record: JobRecord = {
        id,
        job,
        // Stored as JSON, as Redis stores it: later changes to the caller's object do not leak in.
        payload: JSON.parse(JSON.stringify(payload)) as unknown,
        state: 'waiting',
        progress: undefined,
        result: undefined,
        failedReason: undefined,
        attemptsMade: 0,
        retryTimer: undefined,
        abort: undefined,
      };
      records.set(id, record);
      ready.push(record);
      // Start on the next turn, as a BullMQ worker would: the caller can subscribe to events first.
      setImmediate(pump);
      return { jobId: id };
    },

    async getJob(jobId) {
      const record = records.get(jobId);
      return record === undefined ? undefined : snapshot(record);
    },

    on: (event, listener) => events.on(event, listener),

    async ping() {
      if (closed) throw new JobQueueClosed();
    },

    async close({ timeoutMs = 10_000 } = {}) {
      if (closed) return;
      closed = true;
      for (const record of records.values()) clearTimeout(record.retryTimer);
      const unfinished = ready.length + [...records.values()].filter((record) => record.state === 'delayed').length;
      if (unfinished > 0)
        logger.warn({ unfinished }, 'in-process queue closed with jobs not started; they are dropped');
      if (!(await settledWithin(Promise.all(active), timeoutMs))) {
        logger.warn({ active: active.size }, 'jobs still running at close timeout; aborting them');
        for (const record of records.values()) record.abort?.abort(new JobAborted(record.id, 'the queue closed'));
        await settledWithin(Promise.all(active), timeoutMs);
      }
      if (ownsCpu) await cpu.close();
      events.clear();
    },
  };
}

function snapshot(record: JobRecord): JobSnapshot {
  const failed = record.state === 'failed';
  return {
    id: record.id,
    name: record.job.name,
    state: record.state,
    payload: record.payload,
    progress: record.progress,
    result: record.state === 'completed' ? record.result : undefined,
    failedReason: failed ? record.failedReason : undefined,
    failedCode: failed && record.failedReason !== undefined ? parseFailureReason(record.failedReason).code : undefined,
    attemptsMade: record.attemptsMade,
    attempts: record.job.attempts,
  };
}
