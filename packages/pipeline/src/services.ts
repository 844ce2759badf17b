import type { Database } from '@modelfleet/db';
import type { SigningKey } from '@modelfleet/signing';
import type { BlobStore } from '@modelfleet/storage';

/** What the optimize job needs from its host (the embedded server or a worker process). */
export interface PipelineServices {
  db: Database;
  blobs: BlobStore;
  signingKey: SigningKey;
}
