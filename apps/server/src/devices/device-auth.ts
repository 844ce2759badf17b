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
  /** Evicts the devices revoked or re-enrolled (by any process) since shortly before the last sweep. */
  sweep(): Promise<void>;
  close(): Promise<void>;
  readonly size: number;
}

interface Entry {
  principal: DevicePrincipal;
  expiresAt: number;
}

/**
 * Revocations and re-enrolments are looked for this far back on every sweep, so a change written with a
 * clock somewhat behind ours, or committed while the previous sweep ran, is still seen.
 */
const SWEEP_OVERLAP_MS = 60_000;

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

  async function load(hash: string): Promise<DevicePrincipal | null> {
    const started = generation;
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
    if (started !== generation) return principal; // valid for this request, not cached
    const previous = hashByDevice.get(row.id);
    if (previous !== undefined && previous !== hash) forgetHash(previous);
    if (byHash.size >= maxEntries) {
      const oldest = byHash.keys().next();
      if (oldest.done !== true) forgetHash(oldest.value);
    }
    byHash.set(hash, { principal, expiresAt: now() + options.ttlMs });
    hashByDevice.set(row.id, hash);
    return principal;
  }

  async function sweep(): Promise<void> {
    const startedAt = now();
    const since = new Date(lastSweepAt - SWEEP_OVERLAP_MS);
    try {
      const changed = await db.prisma.device.findMany({
        where: { OR: [{ revokedAt: { gte: since } }, { enrolledAt: { gte: since } }] },
        select: { id: true },
      });
      for (const { id } of changed) evictDevice(id);
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
