import type { Database } from '@modelfleet/db';
import type { BlobStore } from '@modelfleet/storage';

/** How long a delta is kept after it stops being useful, by default: a day (downloads in flight finish). */
export const DEFAULT_DELTA_KEEP_MS = 24 * 3600 * 1000;

export interface PruneResult {
  /** Artifacts a device can be offered now: deltas to them are kept. */
  liveTargets: number;
  /** `artifact_deltas` rows removed (pairs whose target no device can be offered any more). */
  rows: number;
  /** Delta blobs removed (no row references them), and their bytes. */
  blobs: number;
  bytes: number;
}

/**
 * The artifacts a poll can offer today: each channel's general release (its newest release that is not
 * staged), the release of every rollout that is still going (running, awaiting approval, paused), and every
 * release a device is pinned to. A delta is only ever requested towards one of these.
 */
async function liveTargets(db: Database): Promise<string[]> {
  const { prisma } = db;
  const [general, rolling, pinned] = await Promise.all([
    prisma.release.findMany({
      where: { staged: false },
      distinct: ['channelId'],
      orderBy: [{ channelId: 'asc' }, { number: 'desc' }],
      select: { artifactSha256: true },
    }),
    prisma.rollout.findMany({
      where: { state: { in: ['running', 'awaiting_approval', 'paused'] } },
      select: { release: { select: { artifactSha256: true } } },
    }),
    prisma.device.findMany({
      where: { pinnedReleaseId: { not: null } },
      distinct: ['pinnedReleaseId'],
      select: { pinnedRelease: { select: { artifactSha256: true } } },
    }),
  ]);
  return [
    ...new Set([
      ...general.map((release) => release.artifactSha256),
      ...rolling.map((rollout) => rollout.release.artifactSha256),
      ...pinned.flatMap((device) => (device.pinnedRelease === null ? [] : [device.pinnedRelease.artifactSha256])),
    ]),
  ];
}

/**
 * Removes the deltas nobody can be offered any more, so the delta store does not grow with every release:
 * rows of `artifact_deltas` whose target is not a live target (see liveTargets) and that are older than
 * `keepMs`, then the delta blobs no row references that are older than `keepMs` (row, then file).
 *
 * Safe beside polls and encodings in other processes: the blob row is deleted only while no row references
 * it (one statement), and a delta that an encoding stores again meanwhile gets a fresh blob row. The one
 * loss is a file removed just after another process stored the same bytes again; the cache checks that
 * the file exists before it offers a stored delta, and encodes it anew when it does not. A target that
 * becomes live again (a rollback republishes an earlier artifact) gets its deltas computed again.
 */
export async function pruneDeltas(
  db: Database,
  blobs: BlobStore,
  options: { keepMs?: number; now?: Date } = {},
): Promise<PruneResult> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - (options.keepMs ?? DEFAULT_DELTA_KEEP_MS));
  const live = await liveTargets(db);
  const { count: rows } = await db.prisma.artifactDelta.deleteMany({
    where: { toSha256: { notIn: live }, createdAt: { lt: cutoff } },
  });
  const removed = await db.prisma.$queryRaw<{ sha256: string; size: number }[]>`
    DELETE FROM blobs AS b
    WHERE b.kind = 'delta' AND b.created_at < ${cutoff}
      AND NOT EXISTS (SELECT 1 FROM artifact_deltas AS d WHERE d.delta_sha256 = b.sha256)
    RETURNING b.sha256, b.size`;
  for (const blob of removed) await blobs.delete(blob.sha256);
  return {
    liveTargets: live.length,
    rows,
    blobs: removed.length,
    bytes: removed.reduce((sum, blob) => sum + blob.size, 0),
  };
}
