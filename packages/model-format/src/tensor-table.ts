/** One row per weight: where it sits in the model, what it is, how it is stored and what it costs. */
import { elementCount } from './payload.js';
import { type WeightRole, expectedWeights, listLayers, splitWeightName } from './topology.js';
import type { EncodingKind, ModelArtifact, TensorDtype } from './types.js';

export interface TensorTableRow {
  readonly name: string;
  readonly layer: string;
  readonly layerClass: string;
  readonly role: WeightRole | 'unknown';
  readonly shape: readonly number[];
  readonly dtype: TensorDtype;
  readonly encoding: EncodingKind;
  readonly elements: number;
  readonly byteLength: number;
}

export function tensorTable(artifact: ModelArtifact): TensorTableRow[] {
  const roles = new Map<string, { layer: string; layerClass: string; role: WeightRole }>();
  for (const layer of listLayers(artifact.modelJson.modelTopology))
    for (const w of expectedWeights(layer))
      roles.set(`${layer.name}/${w.param}`, { layer: layer.name, layerClass: layer.className, role: w.role });
  return artifact.tensors.map((t) => {
    const known = roles.get(t.name);
    return {
      name: t.name,
      layer: known?.layer ?? splitWeightName(t.name).layer,
      layerClass: known?.layerClass ?? 'unknown',
      role: known?.role ?? 'unknown',
      shape: t.shape,
      dtype: t.dtype,
      encoding: t.encoding.kind,
      elements: elementCount(t.shape),
      byteLength: t.bytes.length,
    };
  });
}
