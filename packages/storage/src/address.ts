import { BlobRangeNotSatisfiable, InvalidBlobAddress } from './errors.js';
import type { ByteRange } from './blob-store.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** Throws MF_ERR_BLOB_INVALID_ADDRESS unless `value` is a lowercase hex sha256. */
export function assertSha256(value: string): void {
  if (!isSha256(value)) throw new InvalidBlobAddress(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * Resolves the inclusive range to read from a blob of `size` bytes. A range must lie inside the
 * blob (RFC 9110 §14.1.2 lets servers clamp `end`; clamping is the HTTP layer's choice, not ours).
 */
export function resolveRange(sha256: string, size: number, range: ByteRange | undefined): ByteRange | undefined {
  if (range === undefined) return size === 0 ? undefined : { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new BlobRangeNotSatisfiable(`${String(start)}-${String(end)}`, sha256, String(size));
  }
  return { start, end };
}
