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
