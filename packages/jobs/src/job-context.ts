import type { Logger } from 'pino';
import type { CpuPool } from './cpu/cpu-pool.js';

/** What a processor gets besides its payload. */
export interface JobContext<Services = unknown> {
  jobId: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** Reports progress; `percent` is clamped to 0..100. Delivered as a `progress` event. */
  progress(stage: string, percent: number): Promise<void>;
  /** The host's logger, bound to this job (`jobId`, `job` name, `attempt`). */
  log: Logger;
  /** Aborted when the host shuts down past its grace period; long work should stop and throw. */
  signal: AbortSignal;
  /** What the host provides (database, blob store, …), typed by the catalog. */
  services: Services;
  /** Worker threads for CPU-heavy functions, so the event loop (and BullMQ's lock renewal) stays free. */
  cpu: CpuPool;
}

export interface JobProgress {
  stage: string;
  percent: number;
}
