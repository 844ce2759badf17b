export { createCatalog, type Catalog, type ModelFleetCatalog } from './catalog.js';
export type { Services } from './services.js';
export { BlobDigestPayload, blobDigestJob, type BlobDigestResult } from './blob-digest/blob-digest-job.js';
export type { ByteDigest } from './blob-digest/digest-bytes.js';
export { BlobCorrupt, BlobTooLargeToDigest } from './errors.js';
