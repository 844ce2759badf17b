import type { ReleaseManifest } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import { onTargetsChanged } from '../rollouts/changes.js';
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

interface CachedChannel {
  /** The channel's general release (latest not staged for a rollout). */
  general: TargetRelease | null;
  /** Devices (row id) that get another release: pinned, or members of a rollout. */
  byDevice: Map<string, TargetRelease>;
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
 * Which release each device of a channel gets, in this order (docs/rollouts.md):
 *   1. the release the device is pinned to;
 *   2. the release of a rollout whose waves so far include the device: an active rollout (running, awaiting
 *      approval, paused), or an aborted one for the devices that already installed it (they keep it);
 *   3. the channel's general release: its latest release not staged for a rollout (a rollout's release is
 *      staged until the rollout completes, so the rest of the channel never sees it before).
 * Everything a channel needs is loaded in one go and cached for a short TTL; it is evicted at once on a
 * publish through this process's API and when a rollout or pin changes here (`onTargetsChanged`), and other
 * processes' changes are seen when the TTL ends. Concurrent misses for one channel share one load.
 */
export function createRolloutTargets(db: Database, options: LatestReleaseTargetOptions): ReleaseTargets {
  const now = options.now ?? Date.now;
  const byChannel = new Map<string, CachedChannel>();
  const loading = new Map<string, Promise<CachedChannel>>();
  /** Bumped on every eviction so a load that started before a change cannot cache the old answer. */
  let generation = 0;

  async function loadChannel(channelId: string): Promise<CachedChannel> {
    const started = generation;
    const { prisma } = db;
    // Three reads at once (PostgreSQL runs them side by side); a rollout's release is staged until it completes.
    const [generalRow, rollouts, pinned] = await Promise.all([
      prisma.release.findFirst({
        where: { channelId, staged: false },
        orderBy: { number: 'desc' },
        select: TARGET_RELEASE_SELECT,
      }),
      prisma.rollout.findMany({
        where: {
          channelId,
          state: { in: ['running', 'awaiting_approval', 'paused', 'aborted'] },
          release: { staged: true },
        },
        select: { id: true, state: true, release: { select: TARGET_RELEASE_SELECT } },
      }),
      prisma.device.findMany({
        where: { channelId, pinnedReleaseId: { not: null } },
        select: { id: true, pinnedRelease: { select: TARGET_RELEASE_SELECT } },
      }),
    ]);
    const general = generalRow === null ? null : toTargetRelease(generalRow);
    const byDevice = new Map<string, TargetRelease>();
    // A rollout older than the general release (e.g. aborted before a rollback) no longer decides anything.
    const relevant = rollouts.filter((rollout) => rollout.release.number > (general?.number ?? 0));
    if (relevant.length > 0) {
      const releaseOf = new Map(relevant.map((rollout) => [rollout.id, toTargetRelease(rollout.release)]));
      const active = relevant.filter((rollout) => rollout.state !== 'aborted').map((rollout) => rollout.id);
      const aborted = relevant.filter((rollout) => rollout.state === 'aborted').map((rollout) => rollout.id);
      const members = await prisma.rolloutDevice.findMany({
        where: {
          OR: [{ rolloutId: { in: active } }, { rolloutId: { in: aborted }, state: 'succeeded' }],
        },
        select: { rolloutId: true, deviceId: true },
      });
      for (const member of members) {
        const release = releaseOf.get(member.rolloutId)!;
        const known = byDevice.get(member.deviceId);
        if (known === undefined || known.number < release.number) byDevice.set(member.deviceId, release);
      }
    }
    for (const device of pinned)
      if (device.pinnedRelease !== null) byDevice.set(device.id, toTargetRelease(device.pinnedRelease));
    const entry = { general, byDevice, expiresAt: now() + options.releaseTtlMs };
    if (started === generation) byChannel.set(channelId, entry);
    return entry;
  }

  const pick = (entry: CachedChannel, device: DevicePrincipal) => entry.byDevice.get(device.id) ?? entry.general;

  const targets: ReleaseTargets = {
    targetFor(device) {
      const channelId = device.channelId;
      if (channelId === null) return null;
      const cached = byChannel.get(channelId);
      if (cached !== undefined && cached.expiresAt > now()) return pick(cached, device);
      let pending = loading.get(channelId);
      if (pending === undefined) {
        pending = loadChannel(channelId).finally(() => loading.delete(channelId));
        loading.set(channelId, pending);
      }
      return pending.then((entry) => pick(entry, device));
    },
    invalidate(channelId) {
      generation += 1;
      if (channelId === undefined) byChannel.clear();
      else byChannel.delete(channelId);
    },
  };
  onTargetsChanged((channelId) => targets.invalidate(channelId));
  return targets;
}

/** The name device-services.ts uses: every target decision goes through the rollout-aware targets. */
export const createLatestReleaseTargets = createRolloutTargets;
