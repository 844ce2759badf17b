/**
 * The worker process: `npm start -w @modelfleet/worker` (tsx src/main.ts). Runs ModelFleet's job
 * catalog against BullMQ; start as many as the load needs, on any machine that reaches Redis and
 * the blob store.
 */
import { loadWorkerConfig, WorkerConfigError } from './config.js';
import { createWorkerLogger } from './logger.js';
import { startWorker } from './worker.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (!(error instanceof WorkerConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createWorkerLogger(config);
  const worker = await startWorker(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, 'worker failed to start');
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker.stop().then(
      () => {
        logger.info('worker stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
