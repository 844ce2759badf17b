import { createCatalog } from '@modelfleet/catalog';
import { createDatabase, databaseConfigFromSettings } from '@modelfleet/db';
import { createBullMqWorker, type JobWorker } from '@modelfleet/jobs';
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
  try {
    await db.ping();
    const services = { db, blobs, signingKey, logger };
    worker = await createBullMqWorker(createCatalog(), {
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      services,
      concurrency: config.concurrency,
      cpu: { size: config.cpuThreads },
      logger,
    });
  } catch (error) {
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
      } finally {
        await db.close();
      }
    },
  };
}
