import type { ReleaseManifest } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import type { DevicePrincipal } from './principal.js';

/** A release as the poll path needs it: what to offer and the manifest signed at publish time. */
export interface TargetRelease {
  id: string;
  number: number;
  artifactSha256: string;
  manifest: ReleaseManifest;
  signature: string;
  keyId: string;
}

/**
 * Decides which release a device should run. The poll asks it on every request, so an implementation
 * answers from memory when it can (a plain value, not a promise) and reads the database only when its
 * cache is cold or stale.
 */
export interface ReleaseTargets {
  targetFor(device: DevicePrincipal): TargetRelease | null | Promise<TargetRelease | null>;
  /** Forgets cached state (one channel, or all): a release was published or a rollout changed here. */
  invalidate(channelId?: string): void;
}

export interface LatestReleaseTargetOptions {
  /** How long the latest release of a channel is trusted; bounds staleness after a publish elsewhere. */
  releaseTtlMs: number;
  now?: () => number;
}

interface CachedLatest {
  release: TargetRelease | null;
  expiresAt: number;
}

export const TARGET_RELEASE_SELECT = {
  id: true,
  number: true,
  artifactSha256: true,
  manifest: true,
  signature: true,
  keyId: true,
} as const;

export function toTargetRelease(row: {
  id: string;
  number: number;
  artifactSha256: string;
  manifest: unknown;
  signature: string;
  keyId: string;
}): TargetRelease {
  return { ...row, manifest: row.manifest as ReleaseManifest };
}

/**
 * Every device of a channel runs the channel's latest release. The latest release per channel is cached
 * for a short TTL and evicted on publish in this process; releases are also published by workers, so the
 * TTL bounds how stale another process's view can be. Concurrent misses for one channel share one query.
 */
export function createLatestReleaseTargets(db: Database, options: LatestReleaseTargetOptions): ReleaseTargets {
  const now = options.now ?? Date.now;
  const latestByChannel = new Map<string, CachedLatest>();
  const loading = new Map<string, Promise<TargetRelease | null>>();
  /** Bumped on every eviction so a query that started before a publish cannot cache the old answer. */
  let generation = 0;

  async function loadLatest(channelId: string): Promise<TargetRelease | null> {
    const started = generation;
    const row = await db.prisma.release.findFirst({
      where: { channelId },
      orderBy: { number: 'desc' },
      select: TARGET_RELEASE_SELECT,
    });
    const release = row === null ? null : toTargetRelease(row);
    if (started === generation) latestByChannel.set(channelId, { release, expiresAt: now() + options.releaseTtlMs });
    return release;
  }

  return {
    targetFor(device) {
      const channelId = device.channelId;
      if (channelId === null) return null;
      const cached = latestByChannel.get(channelId);
      if (cached !== undefined && cached.expiresAt > now()) return cached.release;
      let pending = loading.get(channelId);
      if (pending === undefined) {
        pending = loadLatest(channelId).finally(() => loading.delete(channelId));
        loading.set(channelId, pending);
      }
      return pending;
    },
    invalidate(channelId) {
      generation += 1;
      if (channelId === undefined) latestByChannel.clear();
      else latestByChannel.delete(channelId);
    },
  };
}
