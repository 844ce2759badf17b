import { createJobCatalog } from '@modelfleet/jobs';
import { blobDigestJob } from './blob-digest/blob-digest-job.js';
import { optimizeAndPrecomputeJob } from './precompute-deltas/optimize-then-precompute.js';
import { precomputeDeltasJob } from './precompute-deltas/precompute-deltas-job.js';

/** ModelFleet's jobs. Hosts run them with `createInProcessQueue` or `createBullMqWorker`. */
export function createCatalog() {
  return createJobCatalog([optimizeAndPrecomputeJob, blobDigestJob, precomputeDeltasJob]);
}

export type Catalog = ReturnType<typeof createCatalog>;
/** The catalog's type under the name the hosts use. */
export type ModelFleetCatalog = Catalog;
