import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { JobCatalog, JobName, JobPayload } from '../catalog.js';
import { assertValidJobId, assertValidPayload } from '../catalog.js';
import { JobQueueClosed, JobQueueUnavailable } from '../errors.js';
import type { JobProgress } from '../job-context.js';
import { JobEventHub } from '../job-events.js';
import type { EnqueueOptions, JobQueue, JobSnapshot, JobState } from '../job-queue.js';
import { parseFailureReason } from '../permanent-failure.js';
import { withinDeadline } from '../timeouts.js';
import { closeRedis, connectRedis, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, KEEP_FINISHED } from './redis-connection.js';

export interface BullMqQueueOptions {
  /** Either a URL (the queue opens and closes its connections) … */
  redisUrl?: string;
  /** … or a connection to share (duplicated for the blocking event reader; not closed by the queue). */
  connection?: Redis;
  /** Redis key prefix; producers and workers must agree. Default `modelfleet`. */
  prefix?: string;
  queueName?: string;
  logger?: Logger;
  /** Start-up fails with MF_ERR_JOB_QUEUE_UNAVAILABLE when Redis does not answer in time; default 10 s. */
  connectTimeoutMs?: number;
  /** `ping()` fails after this long; default 2 s (a readiness probe must answer). */
  pingTimeoutMs?: number;
}

/**
 * The producer side on Redis (the server): enqueues jobs for `createBullMqWorker` processes and
 * relays their progress/completed/failed events through BullMQ's QueueEvents stream.
 */
export async function createBullMqQueue<Catalog extends JobCatalog>(
  catalog: Catalog,
  options: BullMqQueueOptions,
): Promise<JobQueue<Catalog>> {
  const logger = options.logger ?? pino({ enabled: false });
  const owned: Redis[] = [];
  const open = (): Redis => {
    if (options.connection !== undefined) return options.connection.duplicate();
    if (options.redisUrl === undefined) throw new TypeError('createBullMqQueue needs redisUrl or connection');
    const redis = connectRedis(options.redisUrl);
    return redis;
  };
  const queueConnection = options.connection ?? open();
  if (options.connection === undefined) owned.push(queueConnection);
  const eventsConnection = open();
  owned.push(eventsConnection);

  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const queue = new Queue(queueName, { connection: queueConnection, prefix });
  const events = new JobEventHub(logger);
  let closed = false;

  try {
    // Read the event stream from "now" by Redis' clock: events of jobs enqueued right after this
    // factory returns are delivered even if the first blocking XREAD has not been issued yet.
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const [seconds, micros] = await withinDeadline(queueConnection.time(), connectTimeoutMs, 'connecting to Redis');
    const lastEventId = `${String(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000))}-0`;
    const queueEvents = new QueueEvents(queueName, { connection: eventsConnection, prefix, lastEventId });
    queueEvents.on('error', (error) => logger.error({ err: error }, 'queue events error'));
    queue.on('error', (error) => logger.error({ err: error }, 'queue error'));
    queueEvents.on('progress', ({ jobId, data }) => {
      const progress = asJobProgress(data);
      if (progress !== undefined) events.emit('progress', { jobId, progress });
    });
    // For metrics: the job's name and its last attempt's start and end as the worker process recorded them
    // (processedOn/finishedOn), one read per finished job and only while someone listens.
    const emitFinished = (jobId: string, outcome: 'completed' | 'failed', code: string | undefined) => {
      if (!events.has('finished')) return;
      void queue.getJob(jobId).then(
        (job) => {
          const { processedOn, finishedOn } = job ?? {};
          const durationMs =
            processedOn !== undefined && finishedOn !== undefined ? Math.max(0, finishedOn - processedOn) : undefined;
          events.emit('finished', { jobId, name: job?.name, outcome, durationMs, code });
        },
        (error: unknown) => logger.warn({ err: error, jobId }, 'could not read a finished job for metrics'),
      );
    };
    queueEvents.on('completed', ({ jobId, returnvalue }) => {
      events.emit('completed', { jobId, result: returnvalue });
      emitFinished(jobId, 'completed', undefined);
    });
    queueEvents.on('failed', ({ jobId, failedReason }) => {
      const code = parseFailureReason(failedReason).code;
      events.emit('failed', { jobId, reason: failedReason, code });
      emitFinished(jobId, 'failed', code);
    });
    await withinDeadline(
      Promise.all([queue.waitUntilReady(), queueEvents.waitUntilReady()]),
      connectTimeoutMs,
      'connecting to Redis',
    );

    return {
      async enqueue<Name extends JobName<Catalog>>(
        name: Name,
        payload: JobPayload<Catalog, Name>,
        enqueueOptions: EnqueueOptions = {},
      ) {
        if (closed) throw new JobQueueClosed();
        const job = catalog.get(name);
        assertValidPayload(job, payload);
        if (enqueueOptions.jobId !== undefined) assertValidJobId(enqueueOptions.jobId);
        // BullMQ ignores an add whose jobId it still holds and returns the existing job: deduplication.
        const added = await queue.add(name, payload, {
          ...(enqueueOptions.jobId === undefined ? {} : { jobId: enqueueOptions.jobId }),
          attempts: job.attempts,
          backoff: { type: job.backoff.type, delay: job.backoff.delayMs },
          removeOnComplete: { count: KEEP_FINISHED },
          removeOnFail: { count: KEEP_FINISHED },
        });
        return { jobId: added.id as string };
      },

      async getJob(jobId) {
        // State first, then the data: the two reads are not atomic, and read in this order a
        // finished state always comes with the finished job's data (the reverse could pair
        // "failed" with the hash as it was while active).
        const state = await queue.getJobState(jobId);
        if (state === 'unknown') return undefined;
        const job = await queue.getJob(jobId);
        if (job === undefined || job === null) return undefined;
        return snapshot(job, state);
      },

      on: (event, listener) => events.on(event, listener),

      async ping() {
        if (closed) throw new JobQueueClosed();
        await withinDeadline(queueConnection.ping(), options.pingTimeoutMs ?? 2000, 'Redis ping');
      },

      async close() {
        // Producers hold no in-flight jobs; the timeout concerns workers.
        if (closed) return;
        closed = true;
        await queueEvents.close();
        await queue.close();
        await Promise.all(owned.map(closeRedis));
        events.clear();
      },
    };
  } catch (error) {
    // Drop the connections first: closing a queue whose Redis never answered would wait for it.
    for (const redis of owned) redis.disconnect();
    void queue.close().catch(() => undefined);
    throw JobQueueUnavailable.is(error)
      ? error
      : new JobQueueUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

function snapshot(job: Job, bullState: string): JobSnapshot {
  const state = toJobState(bullState);
  const failed = state === 'failed';
  return {
    id: job.id as string,
    name: job.name,
    state,
    payload: job.data,
    progress: asJobProgress(job.progress),
    result: state === 'completed' ? (job.returnvalue as unknown) : undefined,
    failedReason: failed ? job.failedReason : undefined,
    failedCode: failed ? parseFailureReason(job.failedReason).code : undefined,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
  };
}

/** BullMQ's finer states folded into the five both drivers share. */
function toJobState(state: string): JobState {
  switch (state) {
    case 'completed':
    case 'failed':
    case 'delayed':
    case 'active':
      return state;
    default:
      return 'waiting'; // waiting, prioritized, waiting-children
  }
}

function asJobProgress(value: unknown): JobProgress | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { stage, percent } = value as { stage?: unknown; percent?: unknown };
  return typeof stage === 'string' && typeof percent === 'number' ? { stage, percent } : undefined;
}
