import type { BlobStore } from '@modelfleet/storage';
import type { Logger } from 'pino';

/**
 * What a host (the server in embedded mode, apps/worker in production) must provide to run the
 * catalog. Grows with the catalog: the database client comes with the jobs that need it.
 */
export interface Services {
  blobs: BlobStore;
  logger: Logger;
}
