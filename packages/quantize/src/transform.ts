/**
 * The driver every quantizer shares: walk the weight plan, let the quantizer encode the tensors it
 * may touch, keep every other tensor as the very same record (bytes untouched), and record one
 * decision per tensor in model.json's `modelfleet` metadata.
 */
import type { ModelArtifact, ModelfleetMetadata, TensorDecision, TensorRecord } from '@modelfleet/model-format';
import { type TensorPlan, planWeights } from './weight-plan.js';

export interface QuantizeOptions {
  /** Tensor names the quantizer must leave exactly as they are. */
  readonly skip?: readonly string[];
}

export type TensorChoice = { readonly record: TensorRecord; readonly reason: string } | { readonly keepReason: string };

/** Metadata fields that describe one quantization; a new variant must not inherit its parent's. */
const VARIANT_FIELDS = ['variant', 'decisions', 'activationRanges', 'activationQuantization', 'inputQuantization', 'outputQuantization'];

export function transformWeights(
  artifact: ModelArtifact,
  variant: string,
  options: QuantizeOptions,
  encode: (plan: TensorPlan) => TensorChoice,
  metadata: Partial<ModelfleetMetadata> = {},
  /** Whether `encode` is also offered the tensors the plan keeps (float16 converts every float weight). */
  allFloats = false,
): ModelArtifact {
  const plans = planWeights(artifact, new Set(options.skip ?? []));
  const decisions: TensorDecision[] = [];
  const tensors = plans.map((plan) => {
    const offered = plan.quantizable || (allFloats && plan.tensor.dtype === 'float32' && !(options.skip ?? []).includes(plan.tensor.name));
    const choice: TensorChoice = offered ? encode(plan) : { keepReason: plan.keepReason ?? 'not quantizable' };
    const record = 'record' in choice ? choice.record : plan.tensor;
    decisions.push({
      tensor: plan.tensor.name,
      layer: plan.layer,
      layerClass: plan.layerClass,
      action: 'record' in choice ? 'quantized' : 'kept',
      encoding: record.encoding.kind,
      reason: 'record' in choice ? choice.reason : choice.keepReason,
    });
    return record;
  });
  const inherited = Object.fromEntries(Object.entries(artifact.modelJson.modelfleet ?? {}).filter(([key]) => !VARIANT_FIELDS.includes(key)));
  const modelfleet: ModelfleetMetadata = { ...inherited, ...metadata, version: 1, variant, decisions };
  return { modelJson: { ...artifact.modelJson, modelfleet }, tensors };
}

/** The per-tensor decisions a quantizer recorded (empty for an untransformed artifact). */
export function decisionsOf(artifact: ModelArtifact): readonly TensorDecision[] {
  return artifact.modelJson.modelfleet?.decisions ?? [];
}
