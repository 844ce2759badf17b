import type * as tfNamespace from '@tensorflow/tfjs';

type Tf = typeof tfNamespace;

export interface MobileNetV1Options {
  /** Width multiplier (alpha): 0.25 gives 8..256 channels instead of 32..1024. */
  alpha: number;
  /** Square input side in pixels. */
  size: number;
  classes: number;
  dropout: number;
  /**
   * Seed of every initialiser (layer k uses seed + k), so the same seed builds the same weights.
   * Dropout is deliberately unseeded: a seeded tfjs Dropout draws the same mask at every call.
   */
  seed: number;
}

/** Channels and stride of MobileNet-v1's 13 depthwise-separable blocks at alpha 1 (Howard et al. 2017, table 1). */
const BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

/**
 * MobileNet-v1 as a tfjs LayersModel: a 3x3 stride-2 convolution, then 13 blocks of a 3x3
 * depthwise convolution and a 1x1 pointwise convolution, each followed by batch norm and ReLU6;
 * global average pooling, dropout and a dense softmax. Layer names follow Keras' MobileNet
 * (conv1, conv_dw_k, conv_pw_k, …) and are fixed, so successors of a model have the same
 * tensor names — what a tensor-by-tensor delta needs. 'same' padding on the stride-2 layers pads
 * (0, 1) for even sizes, exactly Keras' explicit ZeroPadding2D((0, 1), (0, 1)).
 */
export function buildMobileNetV1(tf: Tf, options: MobileNetV1Options): tfNamespace.LayersModel {
  const { alpha, size, classes, dropout, seed } = options;
  let layerSeed = seed;
  const nextSeed = (): number => layerSeed++;
  const heNormal = (): ReturnType<Tf['initializers']['heNormal']> => tf.initializers.heNormal({ seed: nextSeed() });
  const channels = (n: number): number => Math.max(8, Math.round(n * alpha));

  const input = tf.input({ shape: [size, size, 3], name: 'input' });
  // Batch-norm momentum 0.9, not Keras' 0.99: measured here, with Adam at 5e-3 the weights move
  // faster than a 0.99 average follows, and after 4 epochs inference mode (moving statistics)
  // still gave one class for every image (20 % test) while training mode was at 45 %.
  const bnRelu = (x: tfNamespace.SymbolicTensor, name: string): tfNamespace.SymbolicTensor => {
    const normalised = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-3 }).apply(x);
    return tf.layers.reLU({ maxValue: 6, name: `${name}_relu` }).apply(normalised) as tfNamespace.SymbolicTensor;
  };

  let x = tf.layers
    .conv2d({
      name: 'conv1',
      filters: channels(32),
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: heNormal(),
    })
    .apply(input) as tfNamespace.SymbolicTensor;
  x = bnRelu(x, 'conv1');
  BLOCKS.forEach(([filters, stride], index) => {
    const k = index + 1;
    x = tf.layers
      .depthwiseConv2d({
        name: `conv_dw_${k}`,
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: heNormal(),
      })
      .apply(x) as tfNamespace.SymbolicTensor;
    x = bnRelu(x, `conv_dw_${k}`);
    x = tf.layers
      .conv2d({
        name: `conv_pw_${k}`,
        filters: channels(filters),
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        kernelInitializer: heNormal(),
      })
      .apply(x) as tfNamespace.SymbolicTensor;
    x = bnRelu(x, `conv_pw_${k}`);
  });
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling' }).apply(x) as tfNamespace.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout', rate: dropout }).apply(x) as tfNamespace.SymbolicTensor;
  const output = tf.layers
    .dense({
      name: 'predictions',
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
    })
    .apply(x) as tfNamespace.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: `mobilenet_v1_${alpha}_${size}` });
}

/** The name of the layer whose output is the backbone's feature vector (input of the head). */
export const FEATURE_LAYER = 'global_average_pooling';
/** The head's trainable layer. */
export const HEAD_LAYER = 'predictions';
