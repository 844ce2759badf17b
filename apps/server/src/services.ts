import type { DependencyName } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import type { JobQueue } from '@modelfleet/jobs';
import type { ModelFleetCatalog } from '@modelfleet/catalog';
import type { SigningKey } from '@modelfleet/signing';
import type { BlobStore } from '@modelfleet/storage';
import type { Intervals, UploadLimits } from './config.js';
import type { DeviceServices } from './devices/device-services.js';

/** Something /readyz asks whether it can be reached. */
export interface ReadinessProbe {
  name: DependencyName;
  /** Which implementation is behind it, for operators: pglite, postgres, in-process, bullmq, fs. */
  driver: string;
  ping(): Promise<void>;
}

/** What the HTTP app needs from the process that hosts it; created by `createServices` and handed in. */
export interface AppServices {
  db: Database;
  blobs: BlobStore;
  queue: JobQueue<ModelFleetCatalog>;
  signingKey: SigningKey;
  limits: UploadLimits;
  /** How often the rollout sweep and the dashboard's change feed run in this process. */
  intervals: Intervals;
  probes: readonly ReadinessProbe[];
  /** Device authentication, poll answers, last-seen batching and served-byte counters (issue 5). */
  devices: DeviceServices;
}
