import type { Database } from '@modelfleet/db';
import type { DeltaCache, NoDeltaReason } from './delta-cache.js';
import { ReleaseToPrecomputeMissing } from './errors.js';

export interface PrecomputedPair {
  from: string;
  /** Devices of the channel that run `from`. */
  devices: number;
  /** The delta's sha256 and size, or why there is none. */
  delta: { sha256: string; size: number } | null;
  reason?: NoDeltaReason;
}

export interface PrecomputeResult {
  releaseId: string;
  target: string;
  targetBytes: number;
  pairs: PrecomputedPair[];
}

/**
 * Deltas to a just-published release from every artifact its channel's devices actually run (distinct
 * `Device.currentArtifactSha256`, revoked devices left out), most-run first, so the fleet's first polls
 * find them in the table instead of waiting for an encoding. Idempotent: pairs already in the table are read,
 * not recomputed.
 */
export async function precomputeDeltas(
  db: Database,
  cache: DeltaCache,
  releaseId: string,
  onPair?: (done: number, total: number) => void | Promise<void>,
): Promise<PrecomputeResult> {
  const release = await db.prisma.release.findUnique({
    where: { id: releaseId },
    select: { id: true, channelId: true, artifactSha256: true, artifactBytes: true },
  });
  if (release === null) throw new ReleaseToPrecomputeMissing(releaseId);
  const running = await db.prisma.device.groupBy({
    by: ['currentArtifactSha256'],
    where: {
      channelId: release.channelId,
      revokedAt: null,
      currentArtifactSha256: { not: null },
      NOT: { currentArtifactSha256: release.artifactSha256 },
    },
    _count: { _all: true },
  });
  const sources = running
    .map((group) => ({ from: group.currentArtifactSha256!, devices: group._count._all }))
    .sort((a, b) => b.devices - a.devices || a.from.localeCompare(b.from));
  const pairs: PrecomputedPair[] = [];
  for (const source of sources) {
    const decision = await cache.decide(source.from, release.artifactSha256);
    pairs.push(
      decision.kind === 'delta'
        ? { ...source, delta: { sha256: decision.delta.sha256, size: decision.delta.size } }
        : { ...source, delta: null, reason: decision.reason },
    );
    await onPair?.(pairs.length, sources.length);
  }
  return { releaseId, target: release.artifactSha256, targetBytes: release.artifactBytes, pairs };
}
