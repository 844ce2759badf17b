import type { Database } from '@modelfleet/db';
import type { ServedBlobKind } from './bytes-served.js';

export interface BlobAccess {
  /** The kind of the blob when a device of this line may download it, else null. */
  kindFor(lineId: string, sha256: string): Promise<ServedBlobKind | null>;
}

/**
 * Which blobs a device may download: the artifacts of its line's releases, and the deltas whose target is
 * one of them (issue 6). Releases are never unpublished and a delta row never changes its target, so a
 * positive answer is cached for good (bounded); a negative one is not (a publish or a delta computed a moment
 * later may make it positive).
 */
export function createBlobAccess(db: Database, maxEntries = 50_000): BlobAccess {
  const allowed = new Map<string, ServedBlobKind>();
  const remember = (cacheKey: string, kind: ServedBlobKind): ServedBlobKind => {
    if (allowed.size >= maxEntries) allowed.clear();
    allowed.set(cacheKey, kind);
    return kind;
  };
  return {
    async kindFor(lineId, sha256) {
      const cacheKey = `${lineId}:${sha256}`;
      const known = allowed.get(cacheKey);
      if (known !== undefined) return known;
      const release = await db.prisma.release.findFirst({
        where: { lineId, artifactSha256: sha256 },
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
        where: { lineId, artifactSha256: { in: deltas.map((delta) => delta.toSha256) } },
        select: { id: true },
      });
      return target === null ? null : remember(cacheKey, 'delta');
    },
  };
}
