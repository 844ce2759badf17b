/**
 * @modelfleet/distribution — how artifacts reach devices beyond the full file (issue 6): the delta cache
 * (a delta per pair of artifacts, computed on first request with single-flight, stored as a blob and a row
 * of `artifact_deltas`, "not smaller" remembered too), the precompute run after a publish, and the prune of
 * deltas no device can be offered any more.
 */
export {
  createDeltaCache,
  DEFAULT_MAX_DELTA_RATIO,
  NOT_SMALLER_MARKER,
  type CachedDelta,
  type DeltaCache,
  type DeltaCacheOptions,
  type DeltaCacheStats,
  type DeltaDecision,
  type NoDeltaReason,
} from './delta-cache.js';
export { createPooledDeltaCodec, type DeltaCodec } from './delta-codec.js';
export { DELTA_FORMAT_NAME, DELTA_FORMAT_VERSION } from './format.js';
export { precomputeDeltas, type PrecomputedPair, type PrecomputeResult } from './precompute.js';
export { DEFAULT_DELTA_KEEP_MS, pruneDeltas, type PruneResult } from './prune.js';
export { ReleaseToPrecomputeMissing } from './errors.js';
