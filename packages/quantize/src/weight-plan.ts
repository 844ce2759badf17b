/**
 * Which tensors a quantizer may touch, and along which axis their channels run. Decided per tensor
 * from the topology, with the reason recorded:
 * - kernels (Conv2D, DepthwiseConv2D, Dense) hold ~all the bytes of a MobileNet: they are quantized;
 * - biases stay float32: one value per output channel (a few hundred bytes in MobileNet-v1 0.25), and
 *   an int8 engine keeps them in int32 at scale s_in * s_w anyway, which is float-exact for our purpose;
 * - batch-norm gamma/beta/mean/variance stay float32 when not folded (see fold-batch-norm.ts): they
 *   are per-channel vectors, small next to the kernels;
 * - kernels under TINY_KERNEL_ELEMENTS stay float32: too small to pay for the encoding's side data.
 */
import {
  type ModelArtifact,
  type TensorRecord,
  type WeightRole,
  expectedWeights,
  listLayers,
} from '@modelfleet/model-format';

export const TINY_KERNEL_ELEMENTS = 32;

export interface TensorPlan {
  readonly tensor: TensorRecord;
  readonly layer: string;
  readonly layerClass: string;
  readonly role: WeightRole;
  /** Whether the tensor is a kernel a weight quantizer may encode. */
  readonly quantizable: boolean;
  /** Why it stays float when not quantizable. */
  readonly keepReason?: string;
  /**
   * Per-channel axis (channels = dims from this axis on): the output axis of Conv2D [h,w,in,out] and
   * Dense [in,out] kernels; for DepthwiseConv2D [h,w,in,mult] the in axis (x mult), since each input
   * channel is its own filter. Using the last axis there would give one scale for all channels when
   * mult = 1 — the per-tensor failure the study hit on MobileNet (theta1, -9 points).
   */
  readonly channelAxis: number;
}

const KERNEL_ROLES: ReadonlySet<WeightRole> = new Set(['conv-kernel', 'depthwise-kernel', 'dense-kernel']);

const KEEP_REASONS: Partial<Record<WeightRole, string>> = {
  bias: 'bias: one value per channel, kept float32 (int32 at s_in*s_w in an int8 engine)',
  'bn-gamma': 'batch-norm parameter: a tiny per-channel vector, kept float32',
  'bn-beta': 'batch-norm parameter: a tiny per-channel vector, kept float32',
  'bn-moving-mean': 'batch-norm statistic: a tiny per-channel vector, kept float32',
  'bn-moving-variance': 'batch-norm statistic: a tiny per-channel vector, kept float32',
};

export function channelAxisOf(role: WeightRole, shape: readonly number[]): number {
  if (role === 'depthwise-kernel') return 2;
  return Math.max(0, shape.length - 1);
}

export function planWeights(artifact: ModelArtifact, skip: ReadonlySet<string> = new Set()): TensorPlan[] {
  const roles = new Map<string, { layer: string; layerClass: string; role: WeightRole }>();
  for (const layer of listLayers(artifact.modelJson.modelTopology))
    for (const w of expectedWeights(layer))
      roles.set(`${layer.name}/${w.param}`, { layer: layer.name, layerClass: layer.className, role: w.role });
  return artifact.tensors.map((tensor) => {
    const found = roles.get(tensor.name);
    const known = found ?? { layer: '', layerClass: 'unknown', role: 'bias' as const };
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    let keepReason: string | undefined;
    if (skip.has(tensor.name)) keepReason = 'left alone as the caller asked';
    else if (found === undefined) keepReason = 'not a parameter of a known layer, kept as it is';
    else if (tensor.dtype !== 'float32') keepReason = `${tensor.dtype} weight: not a float`;
    else if (!KERNEL_ROLES.has(known.role)) keepReason = KEEP_REASONS[known.role] ?? 'not a kernel';
    else if (elements < TINY_KERNEL_ELEMENTS)
      keepReason = `tiny kernel (${elements} < ${TINY_KERNEL_ELEMENTS} values), kept float32`;
    return {
      tensor,
      layer: known.layer,
      layerClass: known.layerClass,
      role: known.role,
      quantizable: keepReason === undefined,
      ...(keepReason !== undefined ? { keepReason } : {}),
      channelAxis: channelAxisOf(known.role, tensor.shape),
    };
  });
}
