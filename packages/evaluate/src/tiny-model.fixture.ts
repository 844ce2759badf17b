/**
 * A hand-weighted tiny classifier and a float64 reference implementation of it, for the
 * calibration and simulation tests: input 2x2x3 -> 1x1 conv (2 filters, no bias) -> batch norm ->
 * ReLU6 -> flatten -> dense (3) -> softmax. Nothing is trained.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { LabelledImages, Preprocessing } from './batches.js';

export const TINY_PREPROCESSING: Preprocessing = { scale: 1 / 127.5, offset: -1 };

const CONV_KERNEL = [
  [0.9, -0.4],
  [-0.3, 0.8],
  [0.5, 0.6],
]; // [in channel][filter]
const BN = { gamma: [1.5, 0.7], beta: [0.2, -0.1], mean: [0.05, -0.1], variance: [0.4, 0.9], epsilon: 1e-3 };
const DENSE_KERNEL = Array.from({ length: 8 }, (_, i) => [Math.sin(i + 1), Math.cos(2 * i + 1), 0.3 - 0.1 * i]); // [8][3]
const DENSE_BIAS = [0.1, -0.2, 0.05];

export const TINY_LAYERS = ['conv', 'bn', 'relu', 'flat', 'logits', 'probs'] as const;

export function buildTinyModel(tf: typeof tfTypes): tfTypes.LayersModel {
  const input = tf.input({ shape: [2, 2, 3], name: 'image' });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: false, name: 'conv' });
  const bn = tf.layers.batchNormalization({ epsilon: BN.epsilon, name: 'bn' });
  const relu = tf.layers.reLU({ maxValue: 6, name: 'relu' });
  const flat = tf.layers.flatten({ name: 'flat' });
  const logits = tf.layers.dense({ units: 3, name: 'logits' });
  const probs = tf.layers.activation({ activation: 'softmax', name: 'probs' });
  const output = probs.apply(
    logits.apply(flat.apply(relu.apply(bn.apply(conv.apply(input))))),
  ) as tfTypes.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  conv.setWeights([tf.tensor4d(CONV_KERNEL.flat(), [1, 1, 3, 2])]);
  bn.setWeights([tf.tensor1d(BN.gamma), tf.tensor1d(BN.beta), tf.tensor1d(BN.mean), tf.tensor1d(BN.variance)]);
  logits.setWeights([tf.tensor2d(DENSE_KERNEL.flat(), [8, 3]), tf.tensor1d(DENSE_BIAS)]);
  return model;
}

/** Deterministic 2x2 RGB images with three labels. */
export function tinyDataset(count: number): LabelledImages {
  const images = new Uint8Array(count * 12);
  let state = 12345;
  for (let i = 0; i < images.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    images[i] = state >>> 24;
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { classNames: ['a', 'b', 'c'], height: 2, width: 2, channels: 3, images, labels };
}

/**
 * Float64 forward pass of one image; `round(name, values)` is applied to the input and to each
 * named layer output (identity by default), so a test can write out the rounding it expects.
 */
export function tinyReference(
  pixels: ArrayLike<number>,
  preprocessing: Preprocessing,
  round: (name: string, values: number[]) => number[] = (_name, values) => values,
): Record<string, number[]> {
  const outputs: Record<string, number[]> = {};
  const x = round(
    'image',
    Array.from(pixels, (pixel) => pixel * preprocessing.scale + preprocessing.offset),
  );
  outputs.image = x;
  const conv: number[] = [];
  for (let p = 0; p < 4; p++) {
    for (let f = 0; f < 2; f++) conv.push(CONV_KERNEL.reduce((sum, row, c) => sum + row[f]! * x[p * 3 + c]!, 0));
  }
  outputs.conv = round('conv', conv);
  outputs.bn = round(
    'bn',
    outputs.conv.map((value, i) => {
      const f = i % 2;
      return (BN.gamma[f]! * (value - BN.mean[f]!)) / Math.sqrt(BN.variance[f]! + BN.epsilon) + BN.beta[f]!;
    }),
  );
  outputs.relu = round(
    'relu',
    outputs.bn.map((value) => Math.min(6, Math.max(0, value))),
  );
  outputs.flat = round('flat', [...outputs.relu]);
  outputs.logits = round(
    'logits',
    DENSE_BIAS.map((bias, u) => outputs.flat!.reduce((sum, value, i) => sum + value * DENSE_KERNEL[i]![u]!, bias)),
  );
  const peak = Math.max(...outputs.logits);
  const exps = outputs.logits.map((value) => Math.exp(value - peak));
  const total = exps.reduce((sum, value) => sum + value, 0);
  outputs.probs = round(
    'probs',
    exps.map((value) => value / total),
  );
  return outputs;
}

/**
 * A small MobileNet-shaped net with seeded random weights and non-trivial batch-norm statistics:
 * 8x8x3 -> conv 3x3 (16) -> BN -> ReLU6 -> depthwise 3x3 -> BN -> ReLU6 -> conv 1x1 (32) -> BN ->
 * ReLU6 -> global average pooling -> dense (3, softmax). Big enough for quantize to encode its kernels.
 */
export function buildSmallConvNet(tf: typeof tfTypes): tfTypes.LayersModel {
  let seed = 11;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  const bnRelu = (x: tfTypes.SymbolicTensor, name: string): tfTypes.SymbolicTensor => {
    const normalised = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(x) as tfTypes.SymbolicTensor;
    return tf.layers.reLU({ maxValue: 6, name: `${name}_relu` }).apply(normalised) as tfTypes.SymbolicTensor;
  };
  let x = tf.layers
    .conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), name: 'conv1' })
    .apply(input) as tfTypes.SymbolicTensor;
  x = bnRelu(x, 'conv1');
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(), name: 'dw' })
    .apply(x) as tfTypes.SymbolicTensor;
  x = bnRelu(x, 'dw');
  x = tf.layers
    .conv2d({ filters: 32, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'pw' })
    .apply(x) as tfTypes.SymbolicTensor;
  x = bnRelu(x, 'pw');
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfTypes.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 3, activation: 'softmax', kernelInitializer: init(), name: 'predictions' })
    .apply(x) as tfTypes.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  // Batch-norm statistics that differ per channel, as in a trained network (moving mean/variance).
  for (const layer of model.layers.filter((candidate) => candidate.getClassName() === 'BatchNormalization')) {
    const channels = layer.getWeights()[0]!.shape[0]!;
    const wave = (phase: number, base: number, spread: number) =>
      tf.tensor1d(Array.from({ length: channels }, (_, c) => base + spread * Math.sin(c * 1.7 + phase)));
    layer.setWeights([wave(0, 1, 0.5), wave(1, 0.1, 0.3), wave(2, 0, 0.2), wave(3, 1, 0.8).abs()]);
  }
  return model;
}

/**
 * Images of `size`x`size` labelled with the model's own predictions (after centring its head on
 * them), so float accuracy is 100 % and any other candidate's accuracy is its agreement with float.
 */
export function labelledByModel(
  tf: typeof tfTypes,
  model: tfTypes.LayersModel,
  count: number,
  size: number,
  preprocessing: Preprocessing,
): LabelledImages {
  // Each image: its own colour and a horizontal gradient, plus pixel noise, so that features after
  // global pooling differ between images (pure noise would average out to the same prediction).
  const images = new Uint8Array(count * size * size * 3);
  let state = 987654;
  const next = (): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  for (let n = 0; n < count; n++) {
    const colour = [next() * 255, next() * 255, next() * 255];
    const slope = (next() - 0.5) * 60;
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) {
        const value = colour[c]! + slope * ((p % size) - size / 2) + (next() - 0.5) * 40;
        images[(n * size * size + p) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  const labels = tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from(images, (pixel) => pixel * preprocessing.scale + preprocessing.offset),
      [count, size, size, 3],
    );
    // Re-scale the (random) head so its logits are centred and spread over these images: otherwise
    // one class wins everywhere and agreement with the float model would say nothing.
    const head = model.getLayer('predictions');
    const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer('pool').output as tfTypes.SymbolicTensor });
    const features = pooled.predict(x) as tfTypes.Tensor2D;
    const kernel = head.getWeights()[0] as tfTypes.Tensor2D;
    const { mean, variance } = tf.moments(tf.matMul(features, kernel), 0);
    const gain = tf.div(3, tf.sqrt(tf.add(variance, 1e-12)));
    head.setWeights([tf.mul(kernel, gain), tf.neg(tf.mul(mean, gain))]);
    return Uint8Array.from(tf.argMax(model.predict(x) as tfTypes.Tensor, 1).dataSync() as Int32Array);
  });
  return { classNames: ['a', 'b', 'c'], height: size, width: size, channels: 3, images, labels };
}
