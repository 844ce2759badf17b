/**
 * The candidate set: the study's theta1..theta4 plus what it names as future work. theta0 (the float
 * model as uploaded) is the baseline evaluate adds itself. Each entry is structurally evaluate's
 * `CandidateVariant`: { id, label, needsCalibration, transform(floatArtifact, { ranges? }) }.
 */
import type { ActivationRanges, ModelArtifact } from '@modelfleet/model-format';
import {
  type DeltaFriendlyVariantId,
  type ReuseTolerance,
  quantizePerChannelInt8Reusing,
  quantizeUint8Reusing,
} from './delta-friendly.js';
import { QuantizeRangesMissing, QuantizeUnknownVariant } from './errors.js';
import { quantizeFullInt8 } from './full-int8.js';
import {
  clusterWeights,
  pruneAndEntropyCode,
  quantizeDynamicRangeUint8,
  quantizeFloat16,
  quantizePerChannelInt8,
} from './quantizers.js';

export interface CandidateVariant {
  readonly id: string;
  readonly label: string;
  /** Whether `transform` needs calibrated activation ranges (theta2, theta3). */
  readonly needsCalibration: boolean;
  /** The study's row this reproduces, when it is one of theta1..theta4. */
  readonly study?: 'theta1' | 'theta2' | 'theta3' | 'theta4';
  transform(floatArtifact: ModelArtifact, context: { readonly ranges?: ActivationRanges }): ModelArtifact;
}

function needRanges(id: string, ranges: ActivationRanges | undefined): ActivationRanges {
  if (ranges === undefined) throw new QuantizeRangesMissing(id);
  return ranges;
}

/** Magnitude pruning + rANS at a given sparsity, as its own candidate (`prune50-rans` for 0.5). */
export function pruneRansVariant(sparsity: number): CandidateVariant {
  const percent = Math.round(sparsity * 100);
  return {
    id: `prune${percent}-rans`,
    label: `${percent}% magnitude pruning + per-channel int8 + rANS`,
    needsCalibration: false,
    transform: (a) => pruneAndEntropyCode(a, { sparsity }),
  };
}

export const candidateSet: readonly CandidateVariant[] = [
  {
    id: 'theta1',
    study: 'theta1',
    label: 'dynamic range: uint8 per-tensor weights, float compute',
    needsCalibration: false,
    transform: (a) => quantizeDynamicRangeUint8(a),
  },
  {
    id: 'theta2',
    study: 'theta2',
    label: 'full int8, representative data (simulated)',
    needsCalibration: true,
    transform: (a, { ranges }) => quantizeFullInt8(a, { ranges: needRanges('theta2', ranges) }),
  },
  {
    id: 'theta3',
    study: 'theta3',
    label: 'full int8, uint8 input/output (simulated)',
    needsCalibration: true,
    transform: (a, { ranges }) => quantizeFullInt8(a, { ranges: needRanges('theta3', ranges), integerIo: true }),
  },
  {
    id: 'theta4',
    study: 'theta4',
    label: 'float16 weights',
    needsCalibration: false,
    transform: (a) => quantizeFloat16(a),
  },
  {
    id: 'int8-per-channel',
    label: 'int8 per-channel weights, float compute',
    needsCalibration: false,
    transform: (a) => quantizePerChannelInt8(a),
  },
  {
    id: 'palette16',
    label: 'weight clustering, 16-entry palette (4-bit)',
    needsCalibration: false,
    transform: (a) => clusterWeights(a, { entries: 16 }),
  },
  {
    id: 'palette256',
    label: 'weight clustering, 256-entry palette (8-bit)',
    needsCalibration: false,
    transform: (a) => clusterWeights(a, { entries: 256 }),
  },
  // 20 %: on a demo MobileNet snapshot (89.7 % float) 20 % kept accuracy (90.0 %), 25 % lost 1.8 points,
  // 30 % 2.6, 50 % 30 (magnitude pruning without fine-tuning; a later snapshot lost 1.2 at 20 %).
  // Other sparsities via candidateById('prune{N}-rans').
  pruneRansVariant(0.2),
];

/** A registered candidate, or `prune{N}-rans` for any sparsity N % in 0..95 (policies may ask for other sparsities). */
export function candidateById(id: string): CandidateVariant {
  const found = candidateSet.find((c) => c.id === id);
  if (found !== undefined) return found;
  const prune = /^prune(\d{1,2})-rans$/.exec(id);
  if (prune !== null && Number(prune[1]) <= 95 && String(Number(prune[1])) === prune[1])
    return pruneRansVariant(Number(prune[1]) / 100);
  throw new QuantizeUnknownVariant(id);
}

/**
 * A delta-friendly candidate: `theta1+reuse` or `int8-per-channel+reuse`, quantizing the new float
 * model with the parameters of `previous` (the line's released artifact) wherever they still fit.
 */
export function deltaFriendlyVariant(
  id: DeltaFriendlyVariantId,
  previous: ModelArtifact,
  tolerance: ReuseTolerance = {},
): CandidateVariant {
  switch (id) {
    case 'theta1+reuse':
      return {
        id,
        label: "uint8 per-tensor weights reusing the previous release's ranges, float compute",
        needsCalibration: false,
        transform: (a) => quantizeUint8Reusing(a, previous, tolerance),
      };
    case 'int8-per-channel+reuse':
      return {
        id,
        label: "int8 per-channel weights reusing the previous release's scales, float compute",
        needsCalibration: false,
        transform: (a) => quantizePerChannelInt8Reusing(a, previous, tolerance),
      };
    default:
      throw new QuantizeUnknownVariant(String(id));
  }
}
