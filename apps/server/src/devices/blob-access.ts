import type { Database } from '@modelfleet/db';
import type { ServedBlobKind } from './bytes-served.js';

export interface BlobAccess {
  /** The kind of the blob when a device of this line may download it, else null. */
  kindFor(lineId: string, sha256: string): Promise<ServedBlobKind | null>;
}

/**
 * Which blobs a device may download: the artifacts of its line's releases (deltas join in issue 6).
 * Releases are never unpublished, so a positive answer is cached for good (bounded); a negative one is
 * not (a publish may make it positive a moment later).
 */
export function createBlobAccess(db: Database, maxEntries = 50_000): BlobAccess {
  const allowed = new Map<string, ServedBlobKind>();
  return {
    async kindFor(lineId, sha256) {
      const cacheKey = `${lineId}:${sha256}`;
      const known = allowed.get(cacheKey);
      if (known !== undefined) return known;
      const release = await db.prisma.release.findFirst({
        where: { lineId, artifactSha256: sha256 },
        select: { id: true },
      });
      if (release === null) return null;
      if (allowed.size >= maxEntries) allowed.clear();
      allowed.set(cacheKey, 'artifact');
      return 'artifact';
    },
  };
}
