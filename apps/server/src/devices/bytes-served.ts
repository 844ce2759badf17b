/** Kinds of blob a device downloads. */
export type ServedBlobKind = 'artifact' | 'delta';

/** Bytes sent and requests answered with a body (200/206) for one kind of blob. */
export interface ServedTotals {
  bytes: number;
  requests: number;
}

export interface BytesServedSnapshot {
  /** Full artifacts. */
  full: ServedTotals;
  /** Deltas (issue 6). */
  delta: ServedTotals;
  byKind: Record<ServedBlobKind, number>;
  byBlob: Record<string, number>;
}

/**
 * Bytes the blob route has sent, per blob kind and per blob, and the requests that sent them: an in-process
 * counter the metrics export and tests read (a resumed download did not fetch again what was on disk; a fleet
 * that moved by delta fetched delta bytes only).
 */
export interface BytesServed {
  add(kind: ServedBlobKind, sha256: string, bytes: number): void;
  /** One request that answers with a body (counted once, whatever its size). */
  request(kind: ServedBlobKind): void;
  byKind(kind: ServedBlobKind): number;
  byBlob(sha256: string): number;
  snapshot(): BytesServedSnapshot;
}

export function createBytesServed(): BytesServed {
  const byKind: Record<ServedBlobKind, number> = { artifact: 0, delta: 0 };
  const requests: Record<ServedBlobKind, number> = { artifact: 0, delta: 0 };
  const byBlob = new Map<string, number>();
  return {
    add(kind, sha256, bytes) {
      byKind[kind] += bytes;
      byBlob.set(sha256, (byBlob.get(sha256) ?? 0) + bytes);
    },
    request(kind) {
      requests[kind] += 1;
    },
    byKind: (kind) => byKind[kind],
    byBlob: (sha256) => byBlob.get(sha256) ?? 0,
    snapshot: () => ({
      full: { bytes: byKind.artifact, requests: requests.artifact },
      delta: { bytes: byKind.delta, requests: requests.delta },
      byKind: { ...byKind },
      byBlob: Object.fromEntries(byBlob),
    }),
  };
}
