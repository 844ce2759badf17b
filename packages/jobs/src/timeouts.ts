import { JobQueueUnavailable } from './errors.js';

/** True when `promise` settles within `timeoutMs`; false when the time runs out first. */
export async function settledWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([
      promise.then(
        () => true as const,
        () => true as const,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `promise`, or MF_ERR_JOB_QUEUE_UNAVAILABLE after `timeoutMs`: while Redis is down, ioredis
 * queues commands and retries for ever, and a readiness check or a start-up must answer.
 */
export async function withinDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new JobQueueUnavailable(`${what} took longer than ${String(timeoutMs)} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timedOut]);
  } catch (error) {
    if (JobQueueUnavailable.is(error)) throw error;
    throw new JobQueueUnavailable(`${what}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
