import { createHash } from 'node:crypto';
import type { CpuTask } from '@modelfleet/jobs';

export interface ByteDigest {
  sha256: string;
  size: number;
  /**
   * Shannon entropy of the byte distribution, in bits per byte (0 = one value repeated,
   * 8 = uniformly random). A rough bound on what a byte-wise entropy coder could save:
   * 8 - H bits per byte. Rounded to 6 decimals so it reads the same everywhere.
   */
  entropyBitsPerByte: number;
}

const SLICE = 1 << 20;

/**
 * Runs in a cpu thread: sha256, byte count and byte entropy of `bytes` in one pass, 1 MiB at a
 * time, reporting progress per slice.
 */
export const digestBytes: CpuTask<ArrayBuffer, ByteDigest> = (buffer, context) => {
  const bytes = new Uint8Array(buffer);
  const hash = createHash('sha256');
  const counts = new Float64Array(256);
  for (let offset = 0; offset < bytes.length; offset += SLICE) {
    const slice = bytes.subarray(offset, Math.min(bytes.length, offset + SLICE));
    hash.update(slice);
    for (let index = 0; index < slice.length; index++) counts[slice[index] as number]! += 1;
    context.progress((Math.min(bytes.length, offset + SLICE) / bytes.length) * 100);
  }
  return { sha256: hash.digest('hex'), size: bytes.length, entropyBitsPerByte: entropy(counts, bytes.length) };
};

function entropy(counts: Float64Array, total: number): number {
  if (total === 0) return 0;
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / total;
    bits -= p * Math.log2(p);
  }
  return Math.round(bits * 1e6) / 1e6;
}
