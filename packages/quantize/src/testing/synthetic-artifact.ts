/**
 * Test support: a small MobileNet-shaped float artifact built by hand (no TF.js), with seeded weights.
 * Channel magnitudes differ wildly between depthwise channels, as in trained MobileNets with folded
 * batch norm, which is what breaks per-tensor ranges.
 */
import { type ModelArtifact, type TensorRecord, packFloat32 } from '@modelfleet/model-format';

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const layer = (className: string, config: Record<string, unknown>) => ({ class_name: className, config });

export function syntheticMobileNet(seed = 1): ModelArtifact {
  const random = seededRandom(seed);
  const c1 = 8;
  const c2 = 32;
  const classes = 5;
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'synthetic',
      layers: [
        layer('Conv2D', {
          name: 'conv1',
          filters: c1,
          kernel_size: [3, 3],
          strides: [2, 2],
          padding: 'same',
          use_bias: false,
          activation: 'linear',
          batch_input_shape: [null, 16, 16, 3],
          dtype: 'float32',
        }),
        layer('BatchNormalization', { name: 'conv1_bn', axis: -1, epsilon: 0.001, center: true, scale: true }),
        layer('ReLU', { name: 'conv1_relu', max_value: 6 }),
        layer('DepthwiseConv2D', {
          name: 'conv_dw_1',
          kernel_size: [3, 3],
          depth_multiplier: 1,
          padding: 'same',
          use_bias: false,
          activation: 'linear',
        }),
        layer('BatchNormalization', { name: 'conv_dw_1_bn', axis: -1, epsilon: 0.001, center: true, scale: true }),
        layer('ReLU', { name: 'conv_dw_1_relu', max_value: 6 }),
        layer('Conv2D', {
          name: 'conv_pw_1',
          filters: c2,
          kernel_size: [1, 1],
          strides: [1, 1],
          padding: 'same',
          use_bias: false,
          activation: 'linear',
        }),
        layer('BatchNormalization', { name: 'conv_pw_1_bn', axis: -1, epsilon: 0.001, center: true, scale: true }),
        layer('ReLU', { name: 'conv_pw_1_relu', max_value: 6 }),
        layer('GlobalAveragePooling2D', { name: 'global_pool' }),
        layer('Dense', { name: 'predictions', units: classes, use_bias: true, activation: 'softmax' }),
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const tensor = (name: string, shape: number[], value: (i: number) => number): TensorRecord =>
    packFloat32(
      name,
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => value(i)),
    );
  const bn = (name: string, c: number): TensorRecord[] => [
    tensor(`${name}/gamma`, [c], () => 0.5 + random()),
    tensor(`${name}/beta`, [c], () => gaussian(random) * 0.1),
    tensor(`${name}/moving_mean`, [c], () => gaussian(random)),
    tensor(`${name}/moving_variance`, [c], () => 0.5 + random()),
  ];
  // depthwise channel k has magnitude 10^(k mod 4 - 2): 0.01 .. 10
  const dwMagnitude = (i: number) => 10 ** ((i % c1) % 4) / 100;
  const tensors = [
    tensor('conv1/kernel', [3, 3, 3, c1], () => gaussian(random) * 0.3),
    ...bn('conv1_bn', c1),
    tensor('conv_dw_1/depthwise_kernel', [3, 3, c1, 1], (i) => gaussian(random) * dwMagnitude(i)),
    ...bn('conv_dw_1_bn', c1),
    tensor('conv_pw_1/kernel', [1, 1, c1, c2], () => gaussian(random) * 0.2),
    ...bn('conv_pw_1_bn', c2),
    tensor('predictions/kernel', [c2, classes], () => gaussian(random) * 0.2),
    tensor('predictions/bias', [classes], () => gaussian(random) * 0.05),
  ];
  return {
    modelJson: { format: 'layers-model', modelTopology: topology, generatedBy: 'quantize tests', convertedBy: null },
    tensors,
  };
}

/** A larger single kernel for size and pruning tests: a Dense 256 -> 64 classifier. */
export function syntheticDense(seed = 2, inputs = 256, units = 64): ModelArtifact {
  const random = seededRandom(seed);
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'dense_only',
      layers: [
        layer('Dense', { name: 'fc', units, use_bias: true, activation: 'linear', batch_input_shape: [null, inputs] }),
      ],
    },
  };
  const kernel = Float32Array.from({ length: inputs * units }, () => gaussian(random) * 0.1);
  return {
    modelJson: { format: 'layers-model', modelTopology: topology },
    tensors: [
      packFloat32('fc/kernel', [inputs, units], kernel),
      packFloat32('fc/bias', [units], new Float32Array(units).fill(0.01)),
    ],
  };
}
