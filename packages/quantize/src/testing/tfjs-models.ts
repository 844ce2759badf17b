/** Test support only (imports TF.js, a devDependency): tiny MobileNet-shaped models saved with stock TF.js. */
import * as tf from '@tensorflow/tfjs';
import { type ModelArtifact, readArtifact } from '@modelfleet/model-format';

export { tf };

/** Functional (like the demo model) or Sequential; batch-norm statistics set to non-trivial values. */
export function buildTinyModel(kind: 'functional' | 'sequential', seed = 3): tf.LayersModel {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.4, seed: seed * 10 + s });
  const layers = [
    tf.layers.conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(1),
      name: 'conv1',
    }),
    tf.layers.batchNormalization({ name: 'conv1_bn' }),
    tf.layers.reLU({ maxValue: 6, name: 'conv1_relu' }),
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init(2),
      name: 'conv_dw_1',
    }),
    tf.layers.batchNormalization({ name: 'conv_dw_1_bn' }),
    tf.layers.reLU({ maxValue: 6, name: 'conv_dw_1_relu' }),
    tf.layers.conv2d({
      filters: 48,
      kernelSize: 1,
      useBias: true,
      kernelInitializer: init(3),
      biasInitializer: init(4),
      name: 'conv_pw_1',
    }),
    tf.layers.batchNormalization({ name: 'conv_pw_1_bn' }),
    tf.layers.reLU({ maxValue: 6, name: 'conv_pw_1_relu' }),
    tf.layers.globalAveragePooling2d({ name: 'global_pool' }),
    tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(5), name: 'predictions' }),
  ];
  let model: tf.LayersModel;
  if (kind === 'sequential') {
    const s = tf.sequential();
    s.add(tf.layers.inputLayer({ inputShape: [12, 12, 3], name: 'input' }));
    for (const layer of layers) s.add(layer);
    model = s;
  } else {
    const input = tf.input({ shape: [12, 12, 3], name: 'input' });
    let x: tf.SymbolicTensor = input;
    for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: x, name: 'tiny_functional' });
  }
  // trained-looking batch-norm statistics: channel scales spread over two decades
  let k = 0;
  for (const layer of model.layers) {
    if (!layer.name.endsWith('_bn')) continue;
    const c = layer.getWeights()[0]!.shape[0]!;
    const channelValues = (f: (i: number) => number) => tf.tensor1d(Array.from({ length: c }, (_, i) => f(i)));
    layer.setWeights([
      channelValues((i) => 0.5 + ((i * 7 + k) % 5) / 4),
      channelValues((i) => (((i * 3 + k) % 7) - 3) / 10),
      channelValues((i) => (((i * 5 + k) % 9) - 4) / 20),
      channelValues((i) => 10 ** (((i + k) % 5) - 3)),
    ]);
    k++;
  }
  return model;
}

export async function artifactOf(model: tf.LayersModel): Promise<ModelArtifact> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved?.weightSpecs === undefined || !(saved.weightData instanceof ArrayBuffer)) throw new Error('save failed');
  const json = {
    modelTopology: saved.modelTopology,
    format: saved.format,
    generatedBy: saved.generatedBy,
    convertedBy: saved.convertedBy,
    weightsManifest: [{ paths: ['w.bin'], weights: saved.weightSpecs }],
  };
  return readArtifact(
    new Map([
      ['model.json', new TextEncoder().encode(JSON.stringify(json))],
      ['w.bin', new Uint8Array(saved.weightData)],
    ]),
  );
}
