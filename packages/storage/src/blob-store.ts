import type { Readable } from 'node:stream';

/**
 * The contract every blob store driver implements (filesystem now, an S3-compatible store later).
 * Blobs are immutable and addressed by the lowercase hex sha256 of their bytes.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store, hashing on the way in. The blob becomes visible only once it
   * is complete and durable; a failed or aborted put leaves nothing behind.
   */
  put(source: BlobSource, options?: PutOptions): Promise<PutResult>;
  /** Opens the blob (or the inclusive byte `range` of it) for reading. */
  get(sha256: string, range?: ByteRange): Promise<BlobRead>;
  /** Size of the blob, or `undefined` when it is absent. */
  stat(sha256: string): Promise<BlobStat | undefined>;
  exists(sha256: string): Promise<boolean>;
  /** Removes the blob; resolves `true` when it existed. Readers that already opened it keep reading. */
  delete(sha256: string): Promise<boolean>;
  /** Resolves when the store is reachable and writable (used by readiness checks). */
  ping(): Promise<void>;
}

/** Bytes in memory, a Node stream or any async iterable of byte chunks (a web stream included). */
export type BlobSource = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** When set, the put fails with MF_ERR_BLOB_HASH_MISMATCH unless the content hashes to it. */
  expectedSha256?: string;
  /** The put fails with MF_ERR_BLOB_TOO_LARGE as soon as more bytes than this arrive. */
  maxBytes?: number;
  /** Aborting fails the put with MF_ERR_BLOB_PUT_ABORTED and discards what was written. */
  signal?: AbortSignal;
}

export interface PutResult {
  sha256: string;
  size: number;
  /** False when the store already held this content (the put was a no-op). */
  created: boolean;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStat {
  sha256: string;
  size: number;
}

export interface BlobRead {
  stream: Readable;
  /** Size of the whole blob (for `Content-Range: bytes start-end/size`). */
  size: number;
  /** The inclusive range the stream yields; the whole blob when no range was asked for. */
  start: number;
  end: number;
  /** Number of bytes the stream yields. */
  length: number;
}
