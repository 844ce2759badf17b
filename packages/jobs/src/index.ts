export { defineJob, backoffDelay, type AnyJobDefinition, type Backoff, type JobDefinition } from './job-definition.js';
export type { JobContext, JobProgress } from './job-context.js';
export {
  createJobCatalog,
  assertValidPayload,
  type CatalogServices,
  type JobCatalog,
  type JobName,
  type JobPayload,
  type JobResult,
} from './catalog.js';
export type {
  EnqueueOptions,
  JobEventName,
  JobEvents,
  JobFinished,
  JobQueue,
  JobSnapshot,
  JobState,
} from './job-queue.js';
export { waitForJob } from './wait-for-job.js';
export { PermanentJobError, isPermanentFailure } from './permanent-failure.js';
export { createInProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export { createBullMqQueue, type BullMqQueueOptions } from './bullmq/bullmq-queue.js';
export { createBullMqWorker, type BullMqWorkerOptions, type JobWorker } from './bullmq/bullmq-worker.js';
export { connectRedis } from './bullmq/redis-connection.js';
export { createCpuPool, type CpuPool, type CpuPoolOptions, type CpuRunOptions } from './cpu/cpu-pool.js';
export type { CpuTask, CpuTaskContext } from './cpu/cpu-task.js';
export {
  CpuPoolClosed,
  CpuTaskAborted,
  CpuTaskFailed,
  DuplicateJobName,
  InvalidJobId,
  InvalidJobPayload,
  JobAborted,
  JobNotFound,
  JobQueueClosed,
  JobQueueUnavailable,
  JobWaitTimedOut,
  UnknownJob,
} from './errors.js';
