import type * as tfTypes from '@tensorflow/tfjs';
import { type ModelArtifact, readArtifact } from '@modelfleet/model-format';

/**
 * Saves an in-memory TF.js model as model.json + one shard and reads it back through model-format,
 * as an upload would arrive (used by the bench for generated models and by tests).
 */
export async function artifactFromModel(tf: typeof tfTypes, model: tfTypes.LayersModel): Promise<ModelArtifact> {
  let saved: tfTypes.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const weightData = saved!.weightData as ArrayBuffer;
  const modelJson = {
    format: 'layers-model',
    generatedBy: saved!.generatedBy,
    convertedBy: null,
    modelTopology: saved!.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved!.weightSpecs }],
  };
  return readArtifact(
    new Map([
      ['model.json', new TextEncoder().encode(JSON.stringify(modelJson))],
      ['weights.bin', new Uint8Array(weightData)],
    ]),
  );
}
