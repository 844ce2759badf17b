/**
 * Test support only (imports TF.js, a devDependency): a tiny MobileNet-shaped LayersModel saved to
 * memory with stock TF.js, as the file map readArtifact takes.
 */
import * as tf from '@tensorflow/tfjs';

export async function useCpuBackend(): Promise<typeof tf> {
  await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

export function buildTinyMobileNet(seed = 1): tf.Sequential {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: seed * 100 + s });
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 3],
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(1),
      name: 'conv1',
    }),
  );
  model.add(
    tf.layers.batchNormalization({ name: 'conv1_bn', gammaInitializer: 'ones', movingVarianceInitializer: 'ones' }),
  );
  model.add(tf.layers.reLU({ maxValue: 6, name: 'conv1_relu' }));
  model.add(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init(2),
      name: 'conv_dw_1',
    }),
  );
  model.add(tf.layers.batchNormalization({ name: 'conv_dw_1_bn' }));
  model.add(tf.layers.reLU({ maxValue: 6, name: 'conv_dw_1_relu' }));
  model.add(
    tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, kernelInitializer: init(3), name: 'conv_pw_1' }),
  );
  model.add(tf.layers.batchNormalization({ name: 'conv_pw_1_bn' }));
  model.add(tf.layers.reLU({ maxValue: 6, name: 'conv_pw_1_relu' }));
  model.add(tf.layers.globalAveragePooling2d({ name: 'global_pool' }));
  model.add(tf.layers.dropout({ rate: 0.1, name: 'dropout' }));
  model.add(
    tf.layers.dense({
      units: 5,
      activation: 'softmax',
      kernelInitializer: init(4),
      biasInitializer: init(5),
      name: 'predictions',
    }),
  );
  return model;
}

/** Saves a model with stock TF.js and returns model.json + one shard, as on disk. */
export async function savedFiles(model: tf.LayersModel): Promise<Map<string, Uint8Array>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved === undefined || saved.weightSpecs === undefined || !(saved.weightData instanceof ArrayBuffer))
    throw new Error('save failed');
  const modelJson = {
    modelTopology: saved.modelTopology,
    format: saved.format,
    generatedBy: saved.generatedBy,
    convertedBy: saved.convertedBy,
    weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
  };
  return new Map([
    ['model.json', new TextEncoder().encode(JSON.stringify(modelJson))],
    ['weights.bin', new Uint8Array(saved.weightData)],
  ]);
}

/** Stock TF.js loading of written files (model.json + shards) from memory. */
export async function loadWithStockTfjs(
  modelJsonText: string,
  shards: Map<string, Uint8Array>,
): Promise<tf.LayersModel> {
  const json = JSON.parse(modelJsonText) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => shards.get(p)!));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer }),
  );
}
