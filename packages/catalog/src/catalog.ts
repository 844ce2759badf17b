import { createJobCatalog } from '@modelfleet/jobs';
import { optimizeJob } from '@modelfleet/pipeline';
import { blobDigestJob } from './blob-digest/blob-digest-job.js';

/** ModelFleet's jobs. Hosts run them with `createInProcessQueue` or `createBullMqWorker`. */
export function createCatalog() {
  return createJobCatalog([optimizeJob, blobDigestJob]);
}

export type Catalog = ReturnType<typeof createCatalog>;
/** The catalog's type under the name the hosts use. */
export type ModelFleetCatalog = Catalog;
