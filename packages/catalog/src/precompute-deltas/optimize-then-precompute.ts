import { optimizeJob } from '@modelfleet/pipeline';
import { defineJob, type JobContext } from '@modelfleet/jobs';
import type { Services } from '../services.js';

/**
 * The pipeline's optimize job, followed — when it published a release — by the host's `releasePublished`
 * (which queues the delta precompute). Kept here rather than in the pipeline so the pipeline knows nothing of
 * deltas; a failure to queue is logged and does not fail the optimize job (polls compute deltas on demand).
 */
export const optimizeAndPrecomputeJob = defineJob({
  ...optimizeJob,
  async process(payload, context: JobContext<Services>) {
    const result = await optimizeJob.process(payload, context);
    const notify = context.services.releasePublished;
    if (result.release !== null && notify !== undefined) {
      const release = await context.services.db.prisma.release.findFirst({
        where: { number: result.release, candidate: { versionId: result.versionId } },
        select: { id: true },
      });
      if (release !== null)
        await notify(release.id).catch((error: unknown) =>
          context.log.warn({ err: error, releaseId: release.id }, 'could not queue the delta precompute'),
        );
    }
    return result;
  },
});
