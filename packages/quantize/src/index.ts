/**
 * @modelfleet/quantize — the candidate set: pure functions from a float artifact (plus calibrated
 * activation ranges for theta2/theta3) to an artifact. No TF.js. Every quantizer records, per tensor,
 * whether it was quantized or kept and why (model.json `modelfleet.decisions`).
 *
 *   quantizeDynamicRangeUint8(a, opts?)            theta1: stock uint8 per-tensor affine kernels
 *   quantizeFullInt8(a, { ranges, integerIo? })    theta2 (theta3 with integerIo: true)
 *   quantizeFullInt8IntegerIo(a, { ranges })       theta3
 *   quantizeFloat16(a, opts?)                      theta4
 *   quantizePerChannelInt8(a, opts?)               weight-only per-channel symmetric int8
 *   clusterWeights(a, { entries: 16 | 256 })       k-means palette per kernel
 *   pruneAndEntropyCode(a, { sparsity })           magnitude pruning + int8 + rANS
 *   candidateSet / candidateById / pruneRansVariant   registry: id -> transform, needsCalibration, label
 *   quantizeUint8Reusing(a, previous, tol?)        delta-friendly theta1: the previous release's {scale,min} where they fit
 *   quantizePerChannelInt8Reusing(a, previous, tol?)  delta-friendly per-channel int8: previous scales per channel
 *   deltaFriendlyVariant(id, previous, tol?)       'theta1+reuse' | 'int8-per-channel+reuse' as a candidate
 *   planWeights(a) / decisionsOf(a)                the per-tensor decisions
 * opts.skip: tensor names a quantizer must leave byte-for-byte alone.
 */
export * from './errors.js';
export type { ActivationRanges, AffineQuantParams, TensorDecision } from '@modelfleet/model-format';
export { type QuantizeOptions, decisionsOf } from './transform.js';
export { type TensorPlan, TINY_KERNEL_ELEMENTS, channelAxisOf, planWeights } from './weight-plan.js';
export {
  type ClusterOptions,
  MIN_PRUNED_ELEMENTS,
  type PruneOptions,
  clusterWeights,
  pruneAndEntropyCode,
  quantizeDynamicRangeUint8,
  quantizeFloat16,
  quantizePerChannelInt8,
} from './quantizers.js';
export {
  type FullInt8Options,
  affineActivationParams,
  quantizeFullInt8,
  quantizeFullInt8IntegerIo,
} from './full-int8.js';
export {
  type CandidateVariant,
  candidateById,
  candidateSet,
  deltaFriendlyVariant,
  pruneRansVariant,
} from './candidates.js';
export {
  DEFAULT_REUSE_TOLERANCE,
  DELTA_FRIENDLY_VARIANT_IDS,
  type DeltaFriendlyOptions,
  type DeltaFriendlyVariantId,
  type DeltaReuseSummary,
  type ReuseTolerance,
  deltaReuseOf,
  quantizeOnAffineGrid,
  quantizePerChannelInt8Reusing,
  quantizeUint8Reusing,
} from './delta-friendly.js';
export { type PerChannelInt8, quantizeSymmetricPerChannel } from './per-channel-int8.js';
export { type AffineUint8, quantizeAffineUint8 } from './affine-uint8.js';
export { type Palette, kmeans1d } from './kmeans.js';
export { pruneByMagnitude } from './prune.js';
