import type { JobQueue } from '@modelfleet/jobs';
import type { ModelFleetCatalog } from '../catalog.js';

/**
 * Queues the delta precompute for a release (after a publish, an auto-publish or a rollback republish).
 * The job id names the release, so asking twice while the first is still held queues it once.
 */
export async function enqueuePrecomputeDeltas(
  queue: Pick<JobQueue<ModelFleetCatalog>, 'enqueue'>,
  releaseId: string,
): Promise<{ jobId: string }> {
  return queue.enqueue('precompute-deltas', { releaseId }, { jobId: `precompute-deltas-${releaseId}` });
}
