/** Kinds of blob a device downloads. */
export type ServedBlobKind = 'artifact' | 'delta';

/**
 * Bytes the blob route has sent, per blob kind and per blob: an in-process counter the metrics issue
 * exports and tests read (e.g. that a resumed download did not fetch again what was already on disk).
 */
export interface BytesServed {
  add(kind: ServedBlobKind, sha256: string, bytes: number): void;
  byKind(kind: ServedBlobKind): number;
  byBlob(sha256: string): number;
  snapshot(): { byKind: Record<ServedBlobKind, number>; byBlob: Record<string, number> };
}

export function createBytesServed(): BytesServed {
  const byKind: Record<ServedBlobKind, number> = { artifact: 0, delta: 0 };
  const byBlob = new Map<string, number>();
  return {
    add(kind, sha256, bytes) {
      byKind[kind] += bytes;
      byBlob.set(sha256, (byBlob.get(sha256) ?? 0) + bytes);
    },
    byKind: (kind) => byKind[kind],
    byBlob: (sha256) => byBlob.get(sha256) ?? 0,
    snapshot: () => ({ byKind: { ...byKind }, byBlob: Object.fromEntries(byBlob) }),
  };
}
