import type { io, LayersModel } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

/** The one weight shard every demo model has (all weights fit in ~1 MB). */
export const WEIGHTS_FILE = 'group1-shard1of1.bin';

export interface SerializedModel {
  /** model.json exactly as stock TF.js writes it (format, generatedBy, topology, weightsManifest). */
  modelJson: string;
  weights: Uint8Array;
}

function concatWeightData(data: io.WeightData): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out;
}

/** Serialises a LayersModel in the stock float32 format, one shard, without touching the filesystem. */
export async function serializeModel(model: LayersModel): Promise<SerializedModel> {
  let captured: SerializedModel | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!artifacts.weightSpecs || artifacts.weightData === undefined) throw new Error('model has no weights');
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      captured = { modelJson: JSON.stringify(modelJson), weights: concatWeightData(artifacts.weightData) };
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!captured) throw new Error('save handler was not called');
  return captured;
}

/** Loads model.json + weights with stock TF.js (from memory), as any application would. */
export async function deserializeModel(files: Map<string, Uint8Array>): Promise<LayersModel> {
  const json = files.get('model.json');
  if (!json) throw new Error('model.json missing');
  const parsed = JSON.parse(new TextDecoder().decode(json)) as {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  };
  const specs = parsed.weightsManifest.flatMap((group) => group.weights);
  const shards = parsed.weightsManifest
    .flatMap((group) => group.paths)
    .map((path) => {
      const bytes = files.get(path);
      if (!bytes) throw new Error(`weight shard ${path} missing`);
      return bytes;
    });
  const total = shards.reduce((sum, shard) => sum + shard.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.length;
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs: specs, weightData: weightData.buffer }),
  );
}
