import type { JobProgress } from './job-context.js';
import type { JobName, JobPayload } from './catalog.js';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** What a queue knows about one job, the same shape from either driver. */
export interface JobSnapshot {
  id: string;
  name: string;
  state: JobState;
  payload: unknown;
  progress: JobProgress | undefined;
  /** The processor's return value, as JSON (present once completed). */
  result: unknown;
  /** `MF_ERR_CODE: message` or the plain message (present once failed). */
  failedReason: string | undefined;
  failedCode: string | undefined;
  /** Attempts finished so far (completed or failed). */
  attemptsMade: number;
  /** Attempts allowed. */
  attempts: number;
}

export interface JobEvents {
  progress: { jobId: string; progress: JobProgress };
  completed: { jobId: string; result: unknown };
  /** Final failure only: no attempt is left or the failure is permanent. */
  failed: { jobId: string; reason: string; code: string | undefined };
  /**
   * For metrics: a job reached its final state, with its name and how long its last attempt ran. Emitted
   * after `completed`/`failed`; the BullMQ driver reads the job's own timestamps (set by the worker
   * process that ran it), and only while someone listens to this event.
   */
  finished: JobFinished;
}

export interface JobFinished {
  jobId: string;
  /** The catalog name, e.g. `optimize` (undefined if the job was removed before it could be read). */
  name: string | undefined;
  outcome: 'completed' | 'failed';
  /** Milliseconds of the last attempt, from its start to its end (undefined when unknown). */
  durationMs: number | undefined;
  /** The failure code, for failed jobs. */
  code: string | undefined;
}

export type JobEventName = keyof JobEvents;

export interface EnqueueOptions {
  /** A stable id: enqueueing an id the queue still holds is a no-op (deduplication). */
  jobId?: string;
}

/** The producer side: what the server holds, whichever driver runs the jobs. */
export interface JobQueue<Catalog> {
  enqueue<Name extends JobName<Catalog>>(
    name: Name,
    payload: JobPayload<Catalog, Name>,
    options?: EnqueueOptions,
  ): Promise<{ jobId: string }>;
  getJob(jobId: string): Promise<JobSnapshot | undefined>;
  /** Subscribes to an event of every job; returns the unsubscribe function. */
  on<Event extends JobEventName>(event: Event, listener: (payload: JobEvents[Event]) => void): () => void;
  /** Resolves when the queue's backend is reachable (used by readiness checks). */
  ping(): Promise<void>;
  /** Stops taking jobs and waits for in-flight ones up to `timeoutMs`, then aborts them. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}
