import { createJobCatalog } from '@modelfleet/jobs';
import { blobDigestJob } from './blob-digest/blob-digest-job.js';

/** ModelFleet's jobs. Hosts run them with `createInProcessQueue` or `createBullMqWorker`. */
export function createCatalog() {
  return createJobCatalog([blobDigestJob]);
}

export type Catalog = ReturnType<typeof createCatalog>;
/** The same type under the name the server uses. */
export type ModelFleetCatalog = Catalog;
