import type { Logger } from 'pino';
import type { Database } from '@modelfleet/db';
import type { SigningKey } from '@modelfleet/signing';
import { createBlobAccess, type BlobAccess } from './blob-access.js';
import { createBytesServed, type BytesServed } from './bytes-served.js';
import { createDeviceAuth, type DeviceAuth } from './device-auth.js';
import { createLastSeen, type LastSeen } from './last-seen.js';
import { createPollAnswers, type PollAnswers } from './poll-answers.js';
import { createLatestReleaseTargets } from './targets.js';

export interface DeviceSettings {
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
};

/** What the device routes keep in memory between requests; one per server process. */
export interface DeviceServices {
  auth: DeviceAuth;
  polls: PollAnswers;
  lastSeen: LastSeen;
  blobAccess: BlobAccess;
  bytesServed: BytesServed;
  /** Stops the revocation sweep and flushes the last-seen batch; call before the database closes. */
  close(): Promise<void>;
}

export function createDeviceServices(
  db: Database,
  key: SigningKey,
  settings: DeviceSettings,
  logger: Logger,
): DeviceServices {
  const lastSeen = createLastSeen(db, { flushIntervalMs: settings.lastSeenFlushMs, logger });
  const auth = createDeviceAuth(db, { ttlMs: settings.authCacheTtlMs, sweepIntervalMs: settings.authSweepMs, logger });
  // In the background: until it is done, devices are read one by one as they poll.
  const warming = auth.warm().then(
    (devices) => logger.info({ devices }, 'device-token cache warmed'),
    (error: unknown) => logger.warn({ err: error }, 'could not warm the device-token cache'),
  );
  return {
    auth,
    polls: createPollAnswers(createLatestReleaseTargets(db, { releaseTtlMs: settings.releaseCacheTtlMs }), key, {
      pollAfterSeconds: settings.pollAfterSeconds,
      offerLifetimeSeconds: settings.offerLifetimeSeconds,
    }),
    lastSeen,
    blobAccess: createBlobAccess(db),
    bytesServed: createBytesServed(),
    close: async () => {
      await warming;
      await auth.close();
      await lastSeen.close();
    },
  };
}
