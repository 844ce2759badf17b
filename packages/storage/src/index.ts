export type { BlobRead, BlobSource, BlobStat, BlobStore, ByteRange, PutOptions, PutResult } from './blob-store.js';
export { createFsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.js';
export { readBlobBytes } from './read-bytes.js';
export { assertSha256, isSha256 } from './address.js';
export {
  BlobHashMismatch,
  BlobNotFound,
  BlobPutAborted,
  BlobRangeNotSatisfiable,
  BlobStoreFull,
  BlobStoreUnavailable,
  BlobTooLarge,
  InvalidBlobAddress,
} from './errors.js';
