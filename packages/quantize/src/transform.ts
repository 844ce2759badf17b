/**
 * The driver every quantizer shares: fold batch norm (as the TFLite converter does), walk the weight
 * plan, let the quantizer encode the tensors it may touch, keep every other tensor as the very same
 * record (bytes untouched), and record one decision per tensor in model.json's `modelfleet` metadata.
 */
import type { ModelArtifact, ModelfleetMetadata, TensorDecision, TensorRecord } from '@modelfleet/model-format';
import { foldBatchNormalization } from './fold-batch-norm.js';
import { type TensorPlan, planWeights } from './weight-plan.js';

export interface QuantizeOptions {
  /** Tensor names the quantizer must leave exactly as they are (no folding into them either). */
  readonly skip?: readonly string[];
  /** Fold BatchNormalization into the preceding conv/dense layer first (default true). */
  readonly foldBatchNorm?: boolean;
}

export type TensorChoice = { readonly record: TensorRecord; readonly reason: string } | { readonly keepReason: string };

/** Metadata fields that describe one quantization; a new variant must not inherit its parent's. */
const VARIANT_FIELDS = [
  'variant',
  'decisions',
  'activationRanges',
  'activationQuantization',
  'inputQuantization',
  'outputQuantization',
  'deltaReuse',
];

export function transformWeights(
  artifact: ModelArtifact,
  variant: string,
  options: QuantizeOptions,
  encode: (plan: TensorPlan) => TensorChoice,
  metadata: (folded: ReadonlyMap<string, string>, artifact: ModelArtifact) => Partial<ModelfleetMetadata> = () => ({}),
  /** Whether `encode` is also offered the float tensors the plan keeps (float16 converts every float weight). */
  allFloats = false,
): ModelArtifact {
  const skip = new Set(options.skip ?? []);
  const fold = options.foldBatchNorm === false ? undefined : foldBatchNormalization(artifact, skip);
  const source = fold?.artifact ?? artifact;
  const plans = planWeights(source, skip);
  const decisions: TensorDecision[] = [...(fold?.decisions ?? [])];
  const tensors = plans.map((plan) => {
    const offered = plan.quantizable || (allFloats && plan.tensor.dtype === 'float32' && !skip.has(plan.tensor.name));
    const choice: TensorChoice = offered ? encode(plan) : { keepReason: plan.keepReason ?? 'not quantizable' };
    const record = 'record' in choice ? choice.record : plan.tensor;
    const foldNote = fold?.rewritten.get(plan.tensor.name);
    decisions.push({
      tensor: plan.tensor.name,
      layer: plan.layer,
      layerClass: plan.layerClass,
      action: 'record' in choice ? 'quantized' : foldNote !== undefined ? 'rewritten' : 'kept',
      encoding: record.encoding.kind,
      reason: [foldNote, 'record' in choice ? choice.reason : choice.keepReason]
        .filter((x) => x !== undefined)
        .join('; '),
    });
    return record;
  });
  const inherited = Object.fromEntries(
    Object.entries(artifact.modelJson.modelfleet ?? {}).filter(([key]) => !VARIANT_FIELDS.includes(key)),
  );
  const modelfleet: ModelfleetMetadata = {
    ...inherited,
    ...metadata(fold?.folded ?? new Map(), source),
    version: 1,
    variant,
    decisions,
  };
  return { modelJson: { ...source.modelJson, modelfleet }, tensors };
}

/** The per-tensor decisions a quantizer recorded (empty for an untransformed artifact). */
export function decisionsOf(artifact: ModelArtifact): readonly TensorDecision[] {
  return artifact.modelJson.modelfleet?.decisions ?? [];
}
