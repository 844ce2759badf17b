import type { JobQueue, JobSnapshot } from './job-queue.js';
import { JobNotFound, JobWaitTimedOut } from './errors.js';

/**
 * Resolves with the finished job (completed or failed) — subscribing before looking, so a job that
 * finishes in between is not missed.
 */
export async function waitForJob<Catalog>(
  queue: JobQueue<Catalog>,
  jobId: string,
  options: { timeoutMs?: number } = {},
): Promise<JobSnapshot> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<JobSnapshot>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, snapshot?: JobSnapshot): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      offCompleted();
      offFailed();
      if (snapshot !== undefined) resolve(snapshot);
      else reject(error);
    };
    const look = (): void => {
      queue.getJob(jobId).then((snapshot) => {
        if (snapshot === undefined) finish(new JobNotFound(jobId));
        else if (snapshot.state === 'completed' || snapshot.state === 'failed') finish(undefined, snapshot);
      }, finish);
    };
    const timer = setTimeout(() => finish(new JobWaitTimedOut(jobId, String(timeoutMs))), timeoutMs);
    const offCompleted = queue.on('completed', (event) => {
      if (event.jobId === jobId) look();
    });
    const offFailed = queue.on('failed', (event) => {
      if (event.jobId === jobId) look();
    });
    look();
  });
}
