import { createCatalog, enqueuePrecomputeDeltas, type Services } from '@modelfleet/catalog';
import { createDatabase, databaseConfigFromSettings } from '@modelfleet/db';
import { createBullMqQueue, createBullMqWorker, type JobQueue, type JobWorker } from '@modelfleet/jobs';
import { createFsBlobStore } from '@modelfleet/storage';
import type { Logger } from 'pino';
import type { WorkerConfig } from './config.js';
import { loadWorkerSigningKey } from './signing-key.js';

export interface RunningWorker {
  readonly name: string;
  /** Finishes (or, past the timeout, releases) running jobs, then closes the database and Redis. */
  stop(): Promise<void>;
}

/**
 * Opens what the catalog's jobs need (the catalog's `Services`: database, blob store, signing
 * key, logger) and starts taking jobs from Redis. Migrations are the server's step, not ours.
 */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  const signingKey = await loadWorkerSigningKey(config);
  const blobs = await createFsBlobStore({ root: config.blobRoot });
  const db = await createDatabase(
    databaseConfigFromSettings({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }),
    {
      onConnectionError: (error) => logger.warn({ err: error }, 'database connection error'),
    },
  );
  let worker: JobWorker;
  let followUps: JobQueue<ReturnType<typeof createCatalog>> | undefined;
  try {
    await db.ping();
    // Producer side, for the jobs a job queues (the delta precompute after an auto-publish).
    const queue = await createBullMqQueue(createCatalog(), {
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      logger,
    });
    followUps = queue;
    const services: Services = {
      db,
      blobs,
      signingKey,
      logger,
      deltaMaxRatio: config.deltaMaxRatio,
      deltaKeepMs: config.deltaKeepMs,
      releasePublished: async (releaseId) => void (await enqueuePrecomputeDeltas(queue, releaseId)),
    };
    worker = await createBullMqWorker(createCatalog(), {
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      services,
      concurrency: config.concurrency,
      cpu: { size: config.cpuThreads },
      logger,
    });
  } catch (error) {
    await followUps?.close();
    await db.close();
    throw error;
  }
  logger.info(
    {
      worker: worker.name,
      prefix: config.queuePrefix,
      concurrency: config.concurrency,
      cpuThreads: config.cpuThreads,
      blobRoot: config.blobRoot,
      signingKeyId: signingKey.keyId,
    },
    'worker ready',
  );
  return {
    name: worker.name,
    async stop() {
      try {
        await worker.close({ timeoutMs: config.shutdownTimeoutMs });
        await followUps?.close();
      } finally {
        await db.close();
      }
    },
  };
}
