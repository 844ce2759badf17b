import type { Database } from '@modelfleet/db';
import type { ServedBlobKind } from './bytes-served.js';

export interface BlobAccess {
  /** The kind of the blob when a device following this channel may download it, else null. */
  kindFor(channelId: string, sha256: string): Promise<ServedBlobKind | null>;
}

/**
 * Which blobs a device may download: the artifacts of its channel's releases (a device follows one channel;
 * pins and rollouts name releases of that channel), and the deltas whose target is one of them (issue 6).
 * Releases are never unpublished and a delta row never changes its target, so a positive answer is cached for
 * good (bounded; a delta pruned later has no file, and its download is 404 all the same); a negative one is not
 * (a publish or a delta computed a moment later may make it positive).
 */
export function createBlobAccess(db: Database, maxEntries = 50_000): BlobAccess {
  const allowed = new Map<string, ServedBlobKind>();
  const remember = (cacheKey: string, kind: ServedBlobKind): ServedBlobKind => {
    if (allowed.size >= maxEntries) allowed.clear();
    allowed.set(cacheKey, kind);
    return kind;
  };
  return {
    async kindFor(channelId, sha256) {
      const cacheKey = `${channelId}:${sha256}`;
      const known = allowed.get(cacheKey);
      if (known !== undefined) return known;
      const release = await db.prisma.release.findFirst({
        where: { channelId, artifactSha256: sha256 },
        select: { id: true },
      });
      if (release !== null) return remember(cacheKey, 'artifact');
      const deltas = await db.prisma.artifactDelta.findMany({
        where: { deltaSha256: sha256 },
        select: { toSha256: true },
        take: 20,
      });
      if (deltas.length === 0) return null;
      const target = await db.prisma.release.findFirst({
        where: { channelId, artifactSha256: { in: deltas.map((delta) => delta.toSha256) } },
        select: { id: true },
      });
      return target === null ? null : remember(cacheKey, 'delta');
    },
  };
}
