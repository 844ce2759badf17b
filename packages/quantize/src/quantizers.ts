/**
 * The weight quantizers of the candidate set. Each is a pure function from an artifact to a new
 * artifact; tensors a quantizer does not encode are carried over as the same records.
 */
import {
  type ModelArtifact,
  decodeTensor,
  encodeFloat16,
  packAffine,
  packFloat16,
  packInt8PerChannel,
  packPalette,
  packSparseRans,
} from '@modelfleet/model-format';
import { quantizeAffineUint8 } from './affine-uint8.js';
import { QuantizeInvalidArgument } from './errors.js';
import { kmeans1d } from './kmeans.js';
import { quantizeSymmetricPerChannel } from './per-channel-int8.js';
import { pruneByMagnitude } from './prune.js';
import { type QuantizeOptions, type TensorChoice, transformWeights } from './transform.js';
import type { TensorPlan } from './weight-plan.js';

/** Per-channel symmetric int8 of one planned kernel. */
export function perChannelChoice(plan: TensorPlan): TensorChoice {
  const t = plan.tensor;
  const { scales, q } = quantizeSymmetricPerChannel(decodeTensor(t), t.shape, plan.channelAxis);
  return {
    record: packInt8PerChannel(t.name, t.shape, plan.channelAxis, scales, q),
    reason: `${plan.role}: int8 symmetric, one scale per channel along axis ${plan.channelAxis} (${scales.length} channels)`,
  };
}

/** theta1, dynamic range: kernels as stock TF.js uint8 per-tensor affine; compute stays float. */
export function quantizeDynamicRangeUint8(artifact: ModelArtifact, options: QuantizeOptions = {}): ModelArtifact {
  return transformWeights(artifact, 'theta1', options, (plan) => {
    const t = plan.tensor;
    const { scale, min, q } = quantizeAffineUint8(decodeTensor(t));
    return {
      record: packAffine(t.name, t.shape, { bits: 8, scale, min }, q),
      reason: `${plan.role}: uint8 affine, one range per tensor (stock TF.js)`,
    };
  });
}

/** Weight-only per-channel symmetric int8 (fixes theta1's depthwise failure), float compute. */
export function quantizePerChannelInt8(artifact: ModelArtifact, options: QuantizeOptions = {}): ModelArtifact {
  return transformWeights(artifact, 'int8-per-channel', options, perChannelChoice);
}

/** theta4: every float weight as IEEE half (stock TF.js float16), as TFLite's float16 quantization does. */
export function quantizeFloat16(artifact: ModelArtifact, options: QuantizeOptions = {}): ModelArtifact {
  return transformWeights(
    artifact,
    'theta4',
    options,
    (plan) => {
      const t = plan.tensor;
      const { bits, outOfRange } = encodeFloat16(decodeTensor(t));
      if (outOfRange) return { keepReason: 'holds a value beyond the float16 range (65504), kept float32' };
      return { record: packFloat16(t.name, t.shape, bits), reason: `${plan.role}: float16 (round to nearest even)` };
    },
    undefined,
    true,
  );
}

export interface ClusterOptions extends QuantizeOptions {
  readonly entries: 16 | 256;
}

/**
 * Weight clustering: a k-means palette of 16 (4-bit indices) or 256 (8-bit) float32 centroids per
 * kernel. Batch norm is NOT folded by default here: folding multiplies each output channel by
 * gamma/sqrt(var+eps), spreading channel scales over decades, which one palette per tensor cannot span
 * (measured on a test model with such statistics: max softmax drift 0.94 folded vs 0.11 unfolded for
 * 16 entries). Depthwise kernels, whose channels differ in scale even unfolded and which are ~5 % of
 * MobileNet's weights, get per-channel int8 instead; both choices are recorded per tensor.
 */
export function clusterWeights(artifact: ModelArtifact, options: ClusterOptions): ModelArtifact {
  if (options.entries !== 16 && options.entries !== 256)
    throw new QuantizeInvalidArgument(`entries ${String(options.entries)} (16 or 256)`);
  const bits = options.entries === 16 ? 4 : 8;
  return transformWeights(artifact, `palette${options.entries}`, { foldBatchNorm: false, ...options }, (plan) => {
    const t = plan.tensor;
    if (plan.role === 'depthwise-kernel') {
      const choice = perChannelChoice(plan);
      return 'record' in choice
        ? {
            record: choice.record,
            reason: `${choice.reason}; one palette per tensor cannot span depthwise channel scales`,
          }
        : choice;
    }
    const values = decodeTensor(t);
    const encodedBytes = options.entries * 4 + Math.ceil((values.length * bits) / 8);
    if (encodedBytes >= t.bytes.length)
      return {
        keepReason: `palette of ${options.entries} would take ${encodedBytes} bytes, not less than ${t.bytes.length}`,
      };
    const { centroids, indices } = kmeans1d(values, options.entries);
    return {
      record: packPalette(t.name, t.shape, bits, centroids, indices),
      reason: `${plan.role}: k-means palette of ${options.entries}, ${bits}-bit indices`,
    };
  });
}

export interface PruneOptions extends QuantizeOptions {
  /** Fraction of each pruned kernel's values set to zero, in [0, 1). */
  readonly sparsity: number;
}

/** Kernels smaller than this are entropy coded but not pruned: they save little and cost accuracy. */
export const MIN_PRUNED_ELEMENTS = 1024;

/**
 * Magnitude pruning to `sparsity`, then per-channel symmetric int8, then rANS entropy coding of the
 * int8 symbols. Depthwise kernels (9 values per channel in MobileNet) are not pruned — each of their
 * channels is a whole filter — but are still entropy coded.
 */
export function pruneAndEntropyCode(artifact: ModelArtifact, options: PruneOptions): ModelArtifact {
  const { sparsity } = options;
  if (!(sparsity >= 0 && sparsity < 1)) throw new QuantizeInvalidArgument(`sparsity ${sparsity} (0 <= s < 1)`);
  const percent = Math.round(sparsity * 100);
  return transformWeights(artifact, `prune${percent}-rans`, options, (plan) => {
    const t = plan.tensor;
    const values = decodeTensor(t);
    const prunable = plan.role !== 'depthwise-kernel' && values.length >= MIN_PRUNED_ELEMENTS;
    const pruned = prunable ? pruneByMagnitude(values, sparsity) : values;
    const { scales, q } = quantizeSymmetricPerChannel(pruned, t.shape, plan.channelAxis);
    const coded = packSparseRans(t.name, t.shape, plan.channelAxis, scales, q);
    // the rANS frequency table costs up to 767 bytes, more than entropy coding saves on small or
    // barely pruned kernels: keep the same int8 symbols uncoded where that is smaller
    const plain = packInt8PerChannel(t.name, t.shape, plan.channelAxis, scales, q);
    const record = coded.bytes.length < plain.bytes.length ? coded : plain;
    const why = prunable
      ? `${percent}% smallest magnitudes pruned`
      : plan.role === 'depthwise-kernel'
        ? 'depthwise: not pruned'
        : `small (${values.length} < ${MIN_PRUNED_ELEMENTS} values): not pruned`;
    const coding =
      record === coded
        ? `rANS coded (${coded.bytes.length} bytes)`
        : `stored uncoded (rANS would take ${coded.bytes.length} > ${plain.bytes.length} bytes)`;
    return { record, reason: `${plan.role}: ${why}, per-channel int8 along axis ${plan.channelAxis}, ${coding}` };
  });
}
