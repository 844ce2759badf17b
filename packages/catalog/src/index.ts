export { createCatalog, type Catalog, type ModelFleetCatalog } from './catalog.js';
export type { Services } from './services.js';
export { BlobDigestPayload, blobDigestJob, type BlobDigestResult } from './blob-digest/blob-digest-job.js';
export type { ByteDigest } from './blob-digest/digest-bytes.js';
export { BlobCorrupt, BlobTooLargeToDigest } from './errors.js';
export {
  PrecomputeDeltasPayload,
  precomputeDeltasJob,
  type PrecomputeDeltasResult,
} from './precompute-deltas/precompute-deltas-job.js';
export { enqueuePrecomputeDeltas } from './precompute-deltas/enqueue.js';
export { optimizeAndPrecomputeJob } from './precompute-deltas/optimize-then-precompute.js';
