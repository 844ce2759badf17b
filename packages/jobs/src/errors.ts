import { defineError } from '@modelfleet/errors';

/** The errors of the job system, defined once; callers and tests match on `code`. */

export const UnknownJob = defineError('MF_ERR_JOB_UNKNOWN', 400, 'no job named %s in the catalog');

export const InvalidJobPayload = defineError<[string, string]>(
  'MF_ERR_JOB_PAYLOAD_INVALID',
  400,
  'invalid payload for job %s: %s',
);

export const InvalidJobId = defineError(
  'MF_ERR_JOB_ID_INVALID',
  400,
  'invalid job id %s: use letters, digits, "-", "_" or "." and not only digits',
);

export const DuplicateJobName = defineError('MF_ERR_JOB_DUPLICATE_NAME', 500, 'job %s is defined twice in the catalog');

export const JobQueueClosed = defineError('MF_ERR_JOB_QUEUE_CLOSED', 503, 'the job queue is closed');

export const JobQueueUnavailable = defineError('MF_ERR_JOB_QUEUE_UNAVAILABLE', 503, 'the job queue is unavailable: %s');

export const JobAborted = defineError('MF_ERR_JOB_ABORTED', 503, 'job %s was aborted: %s');

export const CpuTaskFailed = defineError<[string, string]>('MF_ERR_CPU_TASK_FAILED', 500, 'cpu task %s failed: %s');

export const CpuTaskAborted = defineError('MF_ERR_CPU_TASK_ABORTED', 503, 'cpu task %s was aborted');

export const CpuPoolClosed = defineError('MF_ERR_CPU_POOL_CLOSED', 503, 'the cpu pool is closed');

export const JobNotFound = defineError('MF_ERR_JOB_NOT_FOUND', 404, 'job %s not found');

export const JobWaitTimedOut = defineError('MF_ERR_JOB_WAIT_TIMED_OUT', 504, 'job %s did not finish within %s ms');
