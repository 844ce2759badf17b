import type { Database } from '@modelfleet/db';
import type { DeltaCache } from '@modelfleet/distribution';
import type { PipelineServices } from '@modelfleet/pipeline';
import type { SigningKey } from '@modelfleet/signing';
import type { BlobStore } from '@modelfleet/storage';
import type { Logger } from 'pino';

/**
 * What a host (the server in embedded mode, apps/worker in production) must provide to run the
 * catalog: the database, the blob store every server and worker shares, and the release-signing key
 * (auto-publish signs in the job).
 */
export interface Services extends PipelineServices {
  db: Database;
  blobs: BlobStore;
  signingKey: SigningKey;
  logger: Logger;
  /** Largest delta offered, as a share of the full artifact (MODELFLEET_DELTA_MAX_RATIO); default 0.8. */
  deltaMaxRatio?: number;
  /** How long a delta no device can be offered any more is kept (MODELFLEET_DELTA_KEEP_HOURS); default a day. */
  deltaKeepMs?: number;
  /**
   * Called by jobs after they publish a release (the optimize job's auto-publish); the host queues the delta
   * precompute with `enqueuePrecomputeDeltas`. Absent: nothing is queued (polls still compute on demand).
   */
  releasePublished?: (releaseId: string) => Promise<void>;
  /**
   * The host's delta cache when it has one (the embedded server: its polls and this job then share one
   * computation per pair); absent, the precompute job makes its own on the job's cpu pool.
   */
  deltaCache?: DeltaCache;
}
