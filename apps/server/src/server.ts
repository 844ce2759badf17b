/**
 * The ModelFleet server process: configuration, logging, services, listen, and a graceful shutdown that
 * lets in-flight requests and jobs finish, then closes the queue, the database (PGlite included) and the
 * data-folder lock, and exits 0. The HTTP app itself is in app.ts.
 */
import { pino } from 'pino';
import { isModelFleetError } from '@modelfleet/errors';
import { ConfigError, loadConfig } from './config.js';
import { buildServer } from './build.js';
import { createServices } from './create-services.js';
import { lockDataDir } from './data-dir-lock.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`modelfleet server: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const logger = pino({
    level: config.logLevel,
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } } : {}),
  });

  const lock = config.database === 'pglite' ? await lockDataDir(config.dataDir) : undefined;
  const services = await createServices(config, logger);
  const fastify = await buildServer({ services, logger, bodyLimitBytes: config.bodyLimitBytes });

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string, exitCode: number): Promise<void> => {
    closing ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const force = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out');
        process.exit(1);
      }, config.shutdownTimeoutMs + 5_000);
      force.unref();
      try {
        await fastify.close(); // stops accepting, waits for in-flight requests (uploads)
        await services.close(); // waits for in-flight jobs, then closes the queue and the database
        await lock?.release();
        logger.info('stopped');
      } catch (error) {
        logger.error({ err: error }, 'error during shutdown');
        exitCode = 1;
      }
      logger.flush();
      process.exit(exitCode);
    })();
    return closing;
  };
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });

  const address = await fastify.listen({ port: config.port, host: config.host });
  logger.info(
    { address, database: config.database, queue: config.queue, dataDir: config.dataDir },
    `ModelFleet listening on ${address} (API docs at ${address}/docs)`,
  );
}

main().catch((error: unknown) => {
  const text = isModelFleetError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`modelfleet server failed to start: ${text}\n`);
  process.exit(1);
});
