import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { CatalogServices, JobCatalog } from '../catalog.js';
import { createCpuPool, isCpuPool, type CpuPool, type CpuPoolOptions } from '../cpu/cpu-pool.js';
import { settledWithin, withinDeadline } from '../timeouts.js';
import { UnknownJob } from '../errors.js';
import { failureReason, isPermanentFailure } from '../permanent-failure.js';
import { runAttempt } from '../run-attempt.js';
import { closeRedis, connectRedis, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './redis-connection.js';

export interface BullMqWorkerOptions<Services> {
  redisUrl?: string;
  /** A connection to share (BullMQ duplicates it for its blocking reads; not closed by the worker). */
  connection?: Redis;
  prefix?: string;
  queueName?: string;
  services: Services;
  /** Jobs processed at the same time by this process; default 1. */
  concurrency?: number;
  cpu?: CpuPool | CpuPoolOptions;
  logger?: Logger;
  /** Shown as the job's `processedBy`; default `<hostname>:<pid>`. */
  name?: string;
  /** Start-up fails with MF_ERR_JOB_QUEUE_UNAVAILABLE when Redis does not answer in time; default 10 s. */
  connectTimeoutMs?: number;
  pingTimeoutMs?: number;
  /**
   * How long a job's lock lasts without renewal (BullMQ renews it every half of this); default
   * BullMQ's 30 s. Renewal runs on the event loop, which is why CPU work belongs on `ctx.cpu`.
   */
  lockDurationMs?: number;
}

export interface JobWorker {
  readonly name: string;
  ping(): Promise<void>;
  /**
   * Stops taking jobs and waits up to `timeoutMs` for the running ones. Past that, their signals
   * abort and the jobs go back to waiting (no attempt spent), for another worker to take.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A worker process' side on Redis: takes jobs of the catalog and runs them. */
export async function createBullMqWorker<Catalog extends JobCatalog>(
  catalog: Catalog,
  options: BullMqWorkerOptions<CatalogServices<Catalog>>,
): Promise<JobWorker> {
  const logger = options.logger ?? pino({ enabled: false });
  const name = options.name ?? `${hostname()}:${String(process.pid)}`;
  const ownsCpu = !isCpuPool(options.cpu);
  const cpu = isCpuPool(options.cpu) ? options.cpu : createCpuPool(options.cpu);
  let connection: Redis;
  if (options.connection !== undefined) connection = options.connection;
  else if (options.redisUrl !== undefined) connection = connectRedis(options.redisUrl);
  else throw new TypeError('createBullMqWorker needs redisUrl or connection');
  const ownsConnection = options.connection === undefined;
  /** Aborted when close() runs out of patience: running processors should stop. */
  const shutdown = new AbortController();

  async function processJob(job: Job, token: string | undefined, cancel: AbortSignal | undefined): Promise<unknown> {
    const jobId = job.id as string;
    if (!catalog.has(job.name)) throw new UnrecoverableError(failureReason(new UnknownJob(job.name)));
    const signal = cancel === undefined ? shutdown.signal : AbortSignal.any([shutdown.signal, cancel]);
    try {
      return await runAttempt(catalog.get(job.name), job.data, {
        jobId,
        attempt: job.attemptsMade + 1,
        services: options.services,
        cpu,
        logger,
        signal,
        reportProgress: (progress) => job.updateProgress(progress),
      });
    } catch (error) {
      if (shutdown.signal.aborted && token !== undefined) {
        // Released, not failed: back to waiting for another worker, this attempt not counted.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // BullMQ keeps only the message; the code travels in it (see failureReason).
      const reason = failureReason(error);
      const rethrown = isPermanentFailure(error) ? new UnrecoverableError(reason) : new Error(reason);
      if (error instanceof Error && error.stack !== undefined) rethrown.stack = error.stack;
      throw rethrown;
    }
  }

  const worker = new Worker(options.queueName ?? DEFAULT_QUEUE_NAME, processJob, {
    connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    concurrency: Math.max(1, options.concurrency ?? 1),
    name,
    ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  worker.on('active', (job) =>
    logger.info({ jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 }, 'job started'),
  );
  worker.on('completed', (job) => logger.info({ jobId: job.id, job: job.name }, 'job completed'));
  worker.on('failed', (job, error) =>
    logger.warn({ jobId: job?.id, job: job?.name, err: error }, 'job attempt failed'),
  );

  try {
    await withinDeadline(worker.waitUntilReady(), options.connectTimeoutMs ?? 10_000, 'connecting to Redis');
  } catch (error) {
    if (ownsConnection) connection.disconnect();
    void worker.close(true).catch(() => undefined);
    if (ownsCpu) await cpu.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    name,
    async ping() {
      await withinDeadline(connection.ping(), options.pingTimeoutMs ?? 2000, 'Redis ping');
    },
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= (async () => {
        const graceful = worker.close();
        if (!(await settledWithin(graceful, timeoutMs))) {
          logger.warn({ timeoutMs }, 'jobs still running at close timeout; releasing them');
          shutdown.abort(new Error('worker shutting down'));
          if (!(await settledWithin(graceful, timeoutMs))) await worker.close(true);
        }
        if (ownsCpu) await cpu.close();
        if (ownsConnection) await closeRedis(connection);
      })();
      return closing;
    },
  };
}
