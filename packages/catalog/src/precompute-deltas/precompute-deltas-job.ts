import {
  createDeltaCache,
  createPooledDeltaCodec,
  DEFAULT_DELTA_KEEP_MS,
  DEFAULT_MAX_DELTA_RATIO,
  precomputeDeltas,
  pruneDeltas,
  type PrecomputeResult,
  type PruneResult,
} from '@modelfleet/distribution';
import { defineJob, type JobContext } from '@modelfleet/jobs';
import { Type } from 'typebox';
import type { Services } from '../services.js';

export const PrecomputeDeltasPayload = Type.Object(
  { releaseId: Type.String({ format: 'uuid', description: 'the release devices will move to' }) },
  { additionalProperties: false },
);

export interface PrecomputeDeltasResult extends PrecomputeResult {
  /** What the prune after it removed; null when the prune failed (logged; the next publish prunes again). */
  pruned: PruneResult | null;
}

/**
 * After a publish: the deltas to the new release from every artifact the channel's devices run, encoded in
 * a cpu thread and stored (blob + artifact_deltas row), so the fleet's polls find them ready. A pair another
 * process computed already is read, not recomputed; an unknown release fails without retry. Then the deltas
 * no device can be offered any more are pruned (see pruneDeltas), so the store does not grow with releases.
 */
export const precomputeDeltasJob = defineJob({
  name: 'precompute-deltas',
  payload: PrecomputeDeltasPayload,
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 2000 },
  async process(
    payload,
    context: JobContext<Pick<Services, 'db' | 'blobs' | 'logger' | 'deltaMaxRatio' | 'deltaCache' | 'deltaKeepMs'>>,
  ): Promise<PrecomputeDeltasResult> {
    const { db, blobs } = context.services;
    const cache =
      context.services.deltaCache ??
      createDeltaCache({
        db,
        blobs,
        codec: createPooledDeltaCodec(context.cpu),
        maxRatio: context.services.deltaMaxRatio ?? DEFAULT_MAX_DELTA_RATIO,
        logger: context.log,
      });
    const result = await precomputeDeltas(db, cache, payload.releaseId, (done, total) =>
      context.progress('encoding', (done / total) * 100),
    );
    context.log.info(
      {
        target: result.target,
        sources: result.pairs.length,
        offered: result.pairs.filter((pair) => pair.delta !== null).length,
      },
      'deltas precomputed',
    );
    let pruned: PruneResult | null = null;
    try {
      pruned = await pruneDeltas(db, blobs, { keepMs: context.services.deltaKeepMs ?? DEFAULT_DELTA_KEEP_MS });
      if (pruned.rows > 0 || pruned.blobs > 0) context.log.info(pruned, 'deltas pruned');
    } catch (error) {
      // Housekeeping: the deltas are precomputed; the next publish prunes again.
      context.log.warn({ err: error }, 'pruning deltas failed');
    }
    return { ...result, pruned };
  },
});
