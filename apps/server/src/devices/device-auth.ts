import type { Logger } from 'pino';
import type { Database } from '@modelfleet/db';
import type { DevicePrincipal } from './principal.js';
import { hashFleetToken } from './tokens.js';

export interface DeviceAuthOptions {
  /** How long a device stays cached without being read again. */
  ttlMs: number;
  /**
   * How often the database is asked which devices were revoked or re-enrolled lately (one query for the
   * whole fleet); those are evicted. This bounds how long another process's revocation takes to bite.
   */
  sweepIntervalMs: number;
  logger: Logger;
  /** Entries kept at most; the oldest go first (a fleet is bounded, an attacker's guesses are never cached). */
  maxEntries?: number;
  now?: () => number;
}

export interface DeviceAuth {
  /** The device a token belongs to, or null when it is unknown or revoked. */
  authenticate(token: string): Promise<DevicePrincipal | null>;
  /** Forgets a device (revoked, or its token rotated) so this process stops trusting it at once. */
  evictDevice(deviceRowId: string): void;
  /**
   * Loads every active device into the cache (pages of `pageSize`, up to the cache's bound), so that after
   * a restart the fleet's first polls cost no query each either. Returns how many were loaded.
   */
  warm(pageSize?: number): Promise<number>;
  /** Evicts the devices revoked or re-enrolled (by any process) since shortly before the last sweep. */
  sweep(): Promise<void>;
  close(): Promise<void>;
  readonly size: number;
}

interface Entry {
  principal: DevicePrincipal;
  /** When the read that produced it started (this process's clock). */
  readAt: number;
  expiresAt: number;
}

/**
 * Revocations and re-enrolments are looked for this far back on every sweep, so a change written with a
 * clock somewhat behind ours, or committed while the previous sweep ran, is still seen.
 */
const SWEEP_OVERLAP_MS = 60_000;

/**
 * A cached entry read more than this long after a change (revocation, re-enrolment) already reflects it
 * and is kept; anything read earlier is evicted. It covers clock skew between processes and the time
 * between a writer taking its timestamp and committing. Without it, every device enrolled in the last
 * minute was evicted by every sweep (bench:poll, freshly enrolled fleet: polls fell from ~4,000/s to ~60/s).
 */
const CHANGE_SETTLE_MS = 20_000;

/**
 * Device authentication with an in-memory cache of token hash -> device. A poll is the request the server
 * answers most (every device, every minute), so a cached device costs no query. A short TTL alone would
 * not do that: a device polls once a minute, so any TTL shorter than that misses on every real poll.
 * Instead entries live long and a sweep — one query per interval for the whole fleet — evicts the devices
 * revoked or re-enrolled since the last sweep, in this process or any other. Revocations through this
 * process evict at once. If a sweep fails the whole cache is dropped: nothing is trusted that could not
 * be re-checked. Unknown tokens are never cached; concurrent misses for one token share one query.
 */
export function createDeviceAuth(db: Database, options: DeviceAuthOptions): DeviceAuth {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 200_000;
  const byHash = new Map<string, Entry>();
  const hashByDevice = new Map<string, string>();
  const inFlight = new Map<string, Promise<DevicePrincipal | null>>();
  let lastSweepAt = now();
  /** Bumped by every eviction, so a read that started before one cannot cache what it evicted. */
  let generation = 0;

  const forgetHash = (hash: string) => {
    const entry = byHash.get(hash);
    if (entry === undefined) return;
    byHash.delete(hash);
    if (hashByDevice.get(entry.principal.id) === hash) hashByDevice.delete(entry.principal.id);
  };
  const evictDevice = (deviceRowId: string) => {
    generation += 1;
    const hash = hashByDevice.get(deviceRowId);
    if (hash !== undefined) forgetHash(hash);
  };

  function remember(hash: string, principal: DevicePrincipal, readAt: number): void {
    const previous = hashByDevice.get(principal.id);
    if (previous !== undefined && previous !== hash) forgetHash(previous);
    if (byHash.size >= maxEntries) {
      const oldest = byHash.keys().next();
      if (oldest.done !== true) forgetHash(oldest.value);
    }
    byHash.set(hash, { principal, readAt, expiresAt: readAt + options.ttlMs });
    hashByDevice.set(principal.id, hash);
  }

  async function warm(pageSize = 5_000): Promise<number> {
    const started = generation;
    let loaded = 0;
    const readAt = now();
    let after: string | undefined;
    while (loaded < maxEntries) {
      const rows = await db.prisma.device.findMany({
        where: { revokedAt: null, ...(after === undefined ? {} : { id: { gt: after } }) },
        select: { id: true, deviceId: true, tokenHash: true, channelId: true, channel: { select: { lineId: true } } },
        orderBy: { id: 'asc' },
        take: Math.min(pageSize, maxEntries - loaded),
      });
      // An eviction while warming may concern a row already read: start over is not needed, the sweep
      // that follows evicts it again (it looks back SWEEP_OVERLAP_MS), but do not keep filling meanwhile.
      if (started !== generation) break;
      for (const row of rows) {
        if (byHash.has(row.tokenHash)) continue;
        remember(
          row.tokenHash,
          {
            kind: 'device',
            id: row.id,
            deviceId: row.deviceId,
            channelId: row.channelId,
            lineId: row.channel?.lineId ?? null,
          },
          readAt,
        );
      }
      loaded += rows.length;
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1]!.id;
    }
    return loaded;
  }

  async function load(hash: string): Promise<DevicePrincipal | null> {
    const started = generation;
    const readAt = now();
    const row = await db.prisma.device.findUnique({
      where: { tokenHash: hash },
      select: { id: true, deviceId: true, channelId: true, revokedAt: true, channel: { select: { lineId: true } } },
    });
    if (row === null || row.revokedAt !== null) return null;
    const principal: DevicePrincipal = {
      kind: 'device',
      id: row.id,
      deviceId: row.deviceId,
      channelId: row.channelId,
      lineId: row.channel?.lineId ?? null,
    };
    if (started === generation) remember(hash, principal, readAt); // else valid for this request, not cached
    return principal;
  }

  async function sweep(): Promise<void> {
    const startedAt = now();
    const since = new Date(lastSweepAt - SWEEP_OVERLAP_MS);
    try {
      const changed = await db.prisma.device.findMany({
        where: { OR: [{ revokedAt: { gte: since } }, { enrolledAt: { gte: since } }] },
        select: { id: true, revokedAt: true, enrolledAt: true },
      });
      for (const { id, revokedAt, enrolledAt } of changed) {
        const changedAt = Math.max(revokedAt?.getTime() ?? 0, enrolledAt.getTime());
        const hash = hashByDevice.get(id);
        const entry = hash === undefined ? undefined : byHash.get(hash);
        if (entry === undefined || entry.readAt < changedAt + CHANGE_SETTLE_MS) evictDevice(id);
      }
      lastSweepAt = startedAt;
    } catch (error) {
      generation += 1;
      byHash.clear();
      hashByDevice.clear();
      options.logger.warn({ err: error }, 'could not check device revocations; dropped the device-token cache');
    }
  }

  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
  }, options.sweepIntervalMs);
  timer.unref();

  return {
    async authenticate(token) {
      const hash = hashFleetToken(token);
      const entry = byHash.get(hash);
      if (entry !== undefined) {
        if (entry.expiresAt > now()) return entry.principal;
        forgetHash(hash);
      }
      let pending = inFlight.get(hash);
      if (pending === undefined) {
        pending = load(hash).finally(() => inFlight.delete(hash));
        inFlight.set(hash, pending);
      }
      return pending;
    },
    evictDevice,
    warm,
    sweep: async () => {
      await sweeping;
      await sweep();
    },
    async close() {
      clearInterval(timer);
      await sweeping;
    },
    get size() {
      return byHash.size;
    },
  };
}
