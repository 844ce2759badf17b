import type { BlobStore } from '@modelfleet/storage';

/** A stored blob, whole, in memory (models and datasets are bounded by the upload limits). */
export async function readBlob(blobs: BlobStore, sha256: string): Promise<Uint8Array> {
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
