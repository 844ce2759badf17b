import { createCatalog, type Services } from '@modelfleet/catalog';
import { createBullMqWorker, type JobWorker } from '@modelfleet/jobs';
import { createFsBlobStore } from '@modelfleet/storage';
import type { Logger } from 'pino';
import type { WorkerConfig } from './config.js';

export interface RunningWorker {
  readonly name: string;
  /** Finishes (or, past the timeout, releases) running jobs and closes every connection. */
  stop(): Promise<void>;
}

/** Opens what the catalog's jobs need and starts taking jobs from Redis. */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  const blobs = await createFsBlobStore({ root: config.blobRoot });
  const services: Services = { blobs, logger };
  const worker: JobWorker = await createBullMqWorker(createCatalog(), {
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    services,
    concurrency: config.concurrency,
    cpu: { size: config.cpuThreads },
    logger,
  });
  logger.info(
    {
      worker: worker.name,
      prefix: config.queuePrefix,
      concurrency: config.concurrency,
      cpuThreads: config.cpuThreads,
      blobRoot: config.blobRoot,
    },
    'worker ready',
  );
  return {
    name: worker.name,
    stop: () => worker.close({ timeoutMs: config.shutdownTimeoutMs }),
  };
}
