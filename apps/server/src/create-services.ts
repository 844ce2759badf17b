import path from 'node:path';
import type { Logger } from 'pino';
import { createCatalog, enqueuePrecomputeDeltas, type Services as JobServices } from '@modelfleet/catalog';
import { createDatabase, databaseConfigFromSettings, migrate, type Database } from '@modelfleet/db';
import { createBullMqQueue, createInProcessQueue, type JobQueue } from '@modelfleet/jobs';
import { loadOrCreateSigningKey, signingKeyFromPem, type SigningKey } from '@modelfleet/signing';
import { createFsBlobStore } from '@modelfleet/storage';
import type { ModelFleetCatalog } from '@modelfleet/catalog';
import { ensureBootstrapAdminKey } from './auth/api-keys.js';
import type { ServerConfig } from './config.js';
import type { AppServices } from './services.js';
import { createDeviceServices } from './devices/device-services.js';

export interface ServerServices extends AppServices {
  /** Closes the queue (waiting for in-flight jobs), then the database. Idempotent. */
  close(): Promise<void>;
}

async function signingKeyFor(config: ServerConfig, logger: Logger): Promise<SigningKey> {
  if (config.signingKeyPem !== undefined) return signingKeyFromPem(config.signingKeyPem);
  const file = path.join(config.dataDir, 'keys', 'signing-key.pem');
  const { key, created } = await loadOrCreateSigningKey(file);
  if (created) logger.info({ keyId: key.keyId, file }, 'created the release-signing key');
  return key;
}

/**
 * The server's services, by configuration: PGlite + in-process jobs in the data folder (embedded
 * default), or PostgreSQL + BullMQ (production). Migrations run before anything else touches the
 * database; everything opened is closed again if a later step fails.
 */
export async function createServices(config: ServerConfig, logger: Logger): Promise<ServerServices> {
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const resource of opened.reverse())
      await resource.close().catch((error: unknown) => logger.error({ err: error }, 'close failed'));
    opened.length = 0;
  };
  try {
    const blobs = await createFsBlobStore({ root: path.join(config.dataDir, 'blobs') });
    const db: Database = await createDatabase(
      databaseConfigFromSettings({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolMax: config.databasePool.max,
        poolWaitMs: config.databasePool.waitMs,
      }),
      {
        onConnectionError: (error) => logger.warn({ err: error }, 'database connection error'),
      },
    );
    opened.push(db);
    const migrated = await migrate(db);
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'database migrated');

    const signingKey = await signingKeyFor(config, logger);
    const bootstrap = await ensureBootstrapAdminKey(db.prisma, config.adminKey);
    if (bootstrap?.created === true && config.adminKey === undefined) {
      // Shown once, on the terminal that started the server; only its hash is stored.
      process.stdout.write(
        `\nModelFleet created an admin API key. It is shown only this once; keep it:\n\n  ${bootstrap.key}\n\n` +
          `  modelfleet login --server http://${config.host}:${config.port} --key ${bootstrap.key}\n\n`,
      );
    }

    const catalog = createCatalog();
    const jobServices: JobServices = {
      db,
      blobs,
      signingKey,
      logger,
      deltaMaxRatio: config.devices.deltaMaxRatio,
      deltaKeepMs: config.devices.deltaKeepMs,
    };
    const queue: JobQueue<ModelFleetCatalog> =
      config.redisUrl === undefined
        ? createInProcessQueue(catalog, {
            services: jobServices,
            logger: logger.child({ component: 'jobs' }),
          })
        : await createBullMqQueue(catalog, { redisUrl: config.redisUrl, prefix: config.queuePrefix, logger });
    opened.push({ close: () => queue.close({ timeoutMs: config.shutdownTimeoutMs }) });
    // The optimize job's auto-publish queues the delta precompute for the new release (issue 6).
    jobServices.releasePublished = async (releaseId) => void (await enqueuePrecomputeDeltas(queue, releaseId));

    if (config.redisUrl === undefined) await resumeUnfinishedVersions(db, queue, logger);

    // Closed before the queue and the database (opened is closed in reverse): its last flush needs the database.
    const devices = createDeviceServices(db, signingKey, config.devices, logger.child({ component: 'devices' }), blobs);
    opened.push(devices);
    // Embedded: the precompute job shares the polls' delta cache (one computation per pair in this process).
    jobServices.deltaCache = devices.deltas.cache;

    let closing: Promise<void> | undefined;
    return {
      db,
      blobs,
      queue,
      signingKey,
      limits: config.limits,
      intervals: config.intervals,
      devices,
      probes: [
        { name: 'database', driver: db.kind, ping: () => db.ping() },
        { name: 'queue', driver: config.redisUrl === undefined ? 'in-process' : 'bullmq', ping: () => queue.ping() },
        { name: 'blobs', driver: 'fs', ping: () => blobs.ping() },
      ],
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The in-process queue keeps jobs in memory, so versions whose optimize job was queued or running
 * when the server stopped are queued again at start (the job is idempotent).
 */
async function resumeUnfinishedVersions(
  db: Database,
  queue: JobQueue<ModelFleetCatalog>,
  logger: Logger,
): Promise<void> {
  const unfinished = await db.prisma.modelVersion.findMany({
    where: { status: { in: ['uploaded', 'optimizing'] } },
    select: { id: true },
  });
  for (const version of unfinished) {
    await queue.enqueue('optimize', { versionId: version.id }, { jobId: `optimize-${version.id}` });
  }
  if (unfinished.length > 0) logger.info({ versions: unfinished.length }, 'resumed unfinished optimize jobs');
}
