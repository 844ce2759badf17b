import type { Logger } from 'pino';
import type { Database } from '@modelfleet/db';
import type { SigningKey } from '@modelfleet/signing';
import type { BlobStore } from '@modelfleet/storage';
import { createBlobAccess, type BlobAccess } from './blob-access.js';
import { createBytesServed, type BytesServed } from './bytes-served.js';
import { createDeviceAuth, type DeviceAuth } from './device-auth.js';
import { createServerDeltas, type ServerDeltas, type ServerDeltaSettings } from './deltas.js';
import { createLastSeen, type LastSeen } from './last-seen.js';
import { createPollAnswers, type PollAnswers } from './poll-answers.js';
import { createLatestReleaseTargets } from './targets.js';

export interface DeviceSettings extends ServerDeltaSettings {
  pollAfterSeconds: number;
  offerLifetimeSeconds: number;
  authCacheTtlMs: number;
  authSweepMs: number;
  releaseCacheTtlMs: number;
  lastSeenFlushMs: number;
}

export const DEFAULT_DEVICE_SETTINGS: DeviceSettings = {
  pollAfterSeconds: 60,
  offerLifetimeSeconds: 7 * 24 * 3600,
  authCacheTtlMs: 600_000,
  authSweepMs: 5_000,
  releaseCacheTtlMs: 2_000,
  lastSeenFlushMs: 5_000,
  deltaMaxRatio: 0.8,
  deltaWaitMs: 10_000,
  deltaKeepMs: 24 * 3600 * 1000,
};

/** What the device routes keep in memory between requests; one per server process. */
export interface DeviceServices {
  auth: DeviceAuth;
  polls: PollAnswers;
  lastSeen: LastSeen;
  blobAccess: BlobAccess;
  bytesServed: BytesServed;
  /** Deltas offered by polls: the cache (computed on first request, stored) and its counters (issue 6). */
  deltas: ServerDeltas;
  /** Stops the revocation sweep and flushes the last-seen batch; call before the database closes. */
  close(): Promise<void>;
}

export function createDeviceServices(
  db: Database,
  key: SigningKey,
  settings: DeviceSettings,
  logger: Logger,
  blobs: BlobStore,
): DeviceServices {
  const deltas = createServerDeltas(db, blobs, settings, logger.child({ component: 'deltas' }));
  const lastSeen = createLastSeen(db, { flushIntervalMs: settings.lastSeenFlushMs, logger });
  const auth = createDeviceAuth(db, { ttlMs: settings.authCacheTtlMs, sweepIntervalMs: settings.authSweepMs, logger });
  // In the background: until it is done, devices are read one by one as they poll.
  const warming = auth.warm().then(
    (devices) => logger.info({ devices }, 'device-token cache warmed'),
    (error: unknown) => logger.warn({ err: error }, 'could not warm the device-token cache'),
  );
  return {
    auth,
    polls: createPollAnswers(
      createLatestReleaseTargets(db, { releaseTtlMs: settings.releaseCacheTtlMs }),
      key,
      {
        pollAfterSeconds: settings.pollAfterSeconds,
        offerLifetimeSeconds: settings.offerLifetimeSeconds,
      },
      deltas.source,
    ),
    lastSeen,
    blobAccess: createBlobAccess(db),
    bytesServed: createBytesServed(),
    deltas,
    close: async () => {
      await warming;
      await auth.close();
      await lastSeen.close();
      await deltas.close();
    },
  };
}
