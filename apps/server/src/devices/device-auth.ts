import type { Database } from '@modelfleet/db';
import type { DevicePrincipal } from './principal.js';
import { hashFleetToken } from './tokens.js';

export interface DeviceAuthOptions {
  /** How long a token stays trusted without asking the database again (bounds cross-process revocation). */
  ttlMs: number;
  /** Entries kept at most; the oldest go first (a fleet is bounded, an attacker's guesses are never cached). */
  maxEntries?: number;
  now?: () => number;
}

export interface DeviceAuth {
  /** The device a token belongs to, or null when it is unknown or revoked. */
  authenticate(token: string): Promise<DevicePrincipal | null>;
  /** Forgets a device (revoked, or its token rotated) so this process stops trusting it at once. */
  evictDevice(deviceRowId: string): void;
  readonly size: number;
}

interface Entry {
  principal: DevicePrincipal;
  expiresAt: number;
}

/**
 * Device authentication with an in-memory cache of token hash -> device. A poll is the hottest request
 * the server answers; with the cache a device that polled within `ttlMs` costs no query. Revocations
 * through this process evict at once; other processes see them within `ttlMs`. Only known devices are
 * cached, so unknown tokens cannot grow the map; concurrent misses for one token share one query.
 */
export function createDeviceAuth(db: Database, options: DeviceAuthOptions): DeviceAuth {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 200_000;
  const byHash = new Map<string, Entry>();
  const hashByDevice = new Map<string, string>();
  const inFlight = new Map<string, Promise<DevicePrincipal | null>>();

  const forgetHash = (hash: string) => {
    const entry = byHash.get(hash);
    if (entry === undefined) return;
    byHash.delete(hash);
    if (hashByDevice.get(entry.principal.id) === hash) hashByDevice.delete(entry.principal.id);
  };

  async function load(hash: string): Promise<DevicePrincipal | null> {
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
    evictDevice(deviceRowId) {
      const hash = hashByDevice.get(deviceRowId);
      if (hash !== undefined) forgetHash(hash);
    },
    get size() {
      return byHash.size;
    },
  };
}
