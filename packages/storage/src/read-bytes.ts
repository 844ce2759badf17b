import type { BlobStore } from './blob-store.js';

/**
 * A stored blob, whole, in memory. For blobs whose size is already bounded (model files and datasets
 * within the upload limits); stream with `get` for anything that may be large.
 */
export async function readBlobBytes(blobs: BlobStore, sha256: string): Promise<Uint8Array> {
  const { stream, length } = await blobs.get(sha256);
  const out = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of stream) {
    const bytes = chunk as Uint8Array;
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}
