import type { Database } from '@modelfleet/db';
import { createDeltaCache, createPooledDeltaCodec, type DeltaCache } from '@modelfleet/distribution';
import { createCpuPool } from '@modelfleet/jobs';
import type { BlobStore } from '@modelfleet/storage';
import type { Logger } from 'pino';
import { createCacheDeltaSource } from './delta-source.js';
import type { DeltaSource } from './poll-answers.js';

export interface ServerDeltaSettings {
  /** A delta is offered when it is at most this share of the full artifact (MODELFLEET_DELTA_MAX_RATIO). */
  deltaMaxRatio: number;
  /** How long a poll waits for a delta being computed before it answers with the full artifact only. */
  deltaWaitMs: number;
  /** How long a delta no device can be offered any more is kept (MODELFLEET_DELTA_KEEP_HOURS; the prune is a job's). */
  deltaKeepMs: number;
}

/** The server's deltas: the cache (shared by every poll of the process) and the poll's DeltaSource on it. */
export interface ServerDeltas {
  cache: DeltaCache;
  source: DeltaSource;
  /** Stops the encoding thread (a computation in flight rejects; its pair is retried later). */
  close(): Promise<void>;
}

/**
 * Deltas computed on a poll are encoded in a thread of their own (not the job queue's pool: a poll must not
 * wait behind a 30-second optimize job). The thread starts on the first computation and idles unreferenced.
 */
export function createServerDeltas(
  db: Database,
  blobs: BlobStore,
  settings: ServerDeltaSettings,
  logger: Logger,
): ServerDeltas {
  const pool = createCpuPool({ size: 1 });
  const cache = createDeltaCache({
    db,
    blobs,
    codec: createPooledDeltaCodec(pool),
    maxRatio: settings.deltaMaxRatio,
    logger,
  });
  return {
    cache,
    source: createCacheDeltaSource(cache, { waitMs: settings.deltaWaitMs }),
    close: () => pool.close(),
  };
}
