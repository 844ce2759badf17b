import type { Logger } from 'pino';
import { assertValidPayload } from './catalog.js';
import type { CpuPool } from './cpu/cpu-pool.js';
import type { AnyJobDefinition } from './job-definition.js';
import type { JobContext, JobProgress } from './job-context.js';

export interface AttemptOptions {
  jobId: string;
  attempt: number;
  services: unknown;
  cpu: CpuPool;
  logger: Logger;
  signal: AbortSignal;
  reportProgress(progress: JobProgress): Promise<void>;
}

/**
 * Runs one attempt of a job, the same way in both drivers: validates the payload (a payload that
 * does not fit is a permanent failure), builds the context, runs the processor and returns its
 * result as JSON — what BullMQ stores — so both drivers hand back identical values.
 */
export async function runAttempt(job: AnyJobDefinition, payload: unknown, options: AttemptOptions): Promise<unknown> {
  assertValidPayload(job, payload);
  const context: JobContext = {
    jobId: options.jobId,
    attempt: options.attempt,
    progress: (stage, percent) =>
      options.reportProgress({ stage, percent: Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0)) }),
    log: options.logger.child({ jobId: options.jobId, job: job.name, attempt: options.attempt }),
    signal: options.signal,
    services: options.services,
    cpu: options.cpu,
  };
  const result: unknown = await job.process(payload, context);
  return toJson(result);
}

function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
