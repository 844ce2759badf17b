/**
 * A stock `tf.sequential()` classifier, as a Keras/TF.js user would write it: its saved topology
 * has `class_name: 'Sequential'` and layers without `inbound_nodes` (the shape of the upload that
 * failed with "model has no layers"). Weights are seeded, batch-norm statistics are set per channel
 * as in a trained network; nothing is trained.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { LabelledImages, Preprocessing } from './batches.js';

export const SEQUENTIAL_LAYERS = ['conv', 'bn', 'relu', 'pool', 'predictions'] as const;

function convBackbone(tf: typeof tfTypes, size: number): tfTypes.layers.Layer[] {
  return [
    tf.layers.conv2d({
      inputShape: [size, size, 3],
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      name: 'conv',
    }),
    tf.layers.batchNormalization({ name: 'bn' }),
    tf.layers.reLU({ name: 'relu' }),
  ];
}

function classifierHead(tf: typeof tfTypes, classes: number): tfTypes.layers.Layer[] {
  return [
    tf.layers.globalAveragePooling2d({ name: 'pool' }),
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
      name: 'predictions',
    }),
  ];
}

/** Batch-norm statistics that differ per channel, as in a trained network. */
function setBatchNormStatistics(tf: typeof tfTypes, bn: tfTypes.layers.Layer): void {
  const wave = (phase: number, base: number, spread: number): tfTypes.Tensor1D =>
    tf.tensor1d(Array.from({ length: 8 }, (_, c) => base + spread * Math.sin(c * 1.3 + phase)));
  bn.setWeights([wave(0, 1, 0.4), wave(1, 0.2, 0.2), wave(2, 0, 0.1), wave(3, 1, 0.6).abs()]);
}

/** conv 3x3/2 (8, no bias) -> BN -> ReLU -> global average pooling -> dense softmax, as one tf.sequential(). */
export function buildSequentialNet(tf: typeof tfTypes, size: number, classes: number): tfTypes.Sequential {
  const model = tf.sequential({ layers: [...convBackbone(tf, size), ...classifierHead(tf, classes)] });
  setBatchNormStatistics(tf, model.getLayer('bn'));
  return model;
}

/**
 * The same layers with conv -> BN -> ReLU as a nested Sequential 'backbone' (the transfer-learning
 * shape): called on an input by a functional model, or added as the first layer of a Sequential.
 */
export function buildNestedNet(
  tf: typeof tfTypes,
  size: number,
  classes: number,
  outer: 'functional' | 'sequential',
): tfTypes.LayersModel {
  const backbone = tf.sequential({ name: 'backbone', layers: convBackbone(tf, size) });
  setBatchNormStatistics(tf, backbone.getLayer('bn'));
  const head = classifierHead(tf, classes);
  if (outer === 'sequential') return tf.sequential({ layers: [backbone, ...head] });
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  const output = head.reduce(
    (x, layer) => layer.apply(x) as tfTypes.SymbolicTensor,
    backbone.apply(input) as tfTypes.SymbolicTensor,
  );
  return tf.model({ inputs: input, outputs: output });
}

/**
 * Re-centres and spreads the (random) dense head over `images` so the float model's predictions
 * differ between them, then returns the images labelled with those predictions: float accuracy is
 * 1 and any other candidate's accuracy is its agreement with the float model.
 */
export function labelWithSequentialPredictions(
  tf: typeof tfTypes,
  model: tfTypes.LayersModel,
  images: LabelledImages,
  preprocessing: Preprocessing,
): LabelledImages {
  const labels = tf.tidy(() => {
    const { height, width, channels } = images;
    const count = images.labels.length;
    const x = tf.tensor4d(
      Float32Array.from(images.images, (pixel) => pixel * preprocessing.scale + preprocessing.offset),
      [count, height, width, channels],
    );
    const head = model.getLayer('predictions');
    const features = tf
      .model({ inputs: model.inputs, outputs: model.getLayer('pool').output as tfTypes.SymbolicTensor })
      .predict(x) as tfTypes.Tensor2D;
    const kernel = head.getWeights()[0] as tfTypes.Tensor2D;
    const { mean, variance } = tf.moments(tf.matMul(features, kernel), 0);
    const gain = tf.div(3, tf.sqrt(tf.add(variance, 1e-12)));
    head.setWeights([tf.mul(kernel, gain), tf.neg(tf.mul(mean, gain))]);
    return Uint8Array.from(tf.argMax(model.predict(x) as tfTypes.Tensor, 1).dataSync() as Int32Array);
  });
  return { ...images, labels };
}
