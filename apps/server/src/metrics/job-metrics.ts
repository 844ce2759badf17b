import type { JobQueue } from '@modelfleet/jobs';
import { Histogram, LabelledCounter, type MetricFamily } from './exposition.js';

/** Seconds: the blob digest takes milliseconds, an optimize job tens of seconds to minutes. */
const DURATION_BOUNDS = [0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1800];

export interface JobMetrics {
  families(): MetricFamily[];
  /** Stops listening to the queue. */
  stop(): void;
}

/**
 * Job durations and failures from the queue's `finished` event. Both drivers emit it: the in-process
 * queue times the attempt it ran, the BullMQ driver reads the timestamps the worker process wrote on the
 * job (through QueueEvents), so jobs run in worker processes are counted by the server that scrapes.
 */
export function createJobMetrics(queue: Pick<JobQueue<unknown>, 'on'>): JobMetrics {
  const durations = new Histogram(DURATION_BOUNDS);
  const finished = new LabelledCounter();
  const failures = new LabelledCounter();
  const unsubscribe = queue.on('finished', (event) => {
    const job = event.name ?? 'unknown';
    finished.add({ job, outcome: event.outcome });
    if (event.durationMs !== undefined) durations.observe({ job, outcome: event.outcome }, event.durationMs / 1000);
    if (event.outcome === 'failed') failures.add({ job, code: event.code ?? 'none' });
  });
  return {
    families: () => [
      {
        name: 'modelfleet_jobs_finished_total',
        type: 'counter',
        help: 'Jobs that reached a final state (completed or failed), by job name.',
        samples: finished.samples(),
      },
      {
        name: 'modelfleet_job_failures_total',
        type: 'counter',
        help: 'Jobs that failed for good (no attempt left or a permanent failure), by job name and error code.',
        samples: failures.samples(),
      },
      {
        name: 'modelfleet_job_duration_seconds',
        type: 'histogram',
        help: "Duration of a finished job's last attempt, by job name and outcome.",
        samples: durations.samples(),
      },
    ],
    stop: unsubscribe,
  };
}
