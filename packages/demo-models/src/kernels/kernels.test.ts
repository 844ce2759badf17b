import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMobileNetV1 } from '../mobilenet.js';
import { createTrainingRuntime } from '../runtime.js';

type Op = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor;
type Shape4 = [number, number, number, number];

/** Gradients of sum(op(x, w) * r) for fixed random x, w, r on one backend. */
async function gradients(backend: 'cpu' | 'wasm', op: Op, xShape: Shape4, wShape: Shape4): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomUniform<tf.Rank.R4>(xShape, -1, 1, 'float32', 1);
    const w = tf.randomUniform<tf.Rank.R4>(wShape, -1, 1, 'float32', 2);
    const r = tf.randomUniform(op(x, w).shape, -1, 1, 'float32', 3);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), r)),
    )([x, w]);
    return [dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
  });
}

function maxRelativeError(expected: Float32Array, actual: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - actual[i]!) / scale);
  return worst;
}

beforeAll(async () => {
  await createTrainingRuntime();
});

describe('wasm gradient kernels against the cpu backend', () => {
  const cases: Array<[string, Op, Shape4, Shape4]> = [
    ['conv 3x3 stride 2 same', (x, w) => tf.conv2d(x, w, 2, 'same'), [2, 9, 9, 3], [3, 3, 3, 4]],
    ['conv 3x3 stride 1 valid', (x, w) => tf.conv2d(x, w, 1, 'valid'), [2, 7, 6, 3], [3, 3, 3, 5]],
    ['conv 1x1 (pointwise)', (x, w) => tf.conv2d(x, w, 1, 'same'), [2, 5, 5, 6], [1, 1, 6, 7]],
    ['depthwise 3x3 stride 1 same', (x, w) => tf.depthwiseConv2d(x, w, 1, 'same'), [2, 8, 8, 4], [3, 3, 4, 1]],
    [
      'depthwise 3x3 stride 2 same, odd size',
      (x, w) => tf.depthwiseConv2d(x, w, 2, 'same'),
      [2, 9, 7, 4],
      [3, 3, 4, 1],
    ],
    ['depthwise 3x3 stride 2 valid', (x, w) => tf.depthwiseConv2d(x, w, 2, 'valid'), [1, 9, 8, 3], [3, 3, 3, 1]],
    ['depthwise multiplier 2', (x, w) => tf.depthwiseConv2d(x, w, 1, 'same'), [1, 6, 6, 3], [3, 3, 3, 2]],
  ];
  for (const [name, op, xShape, wShape] of cases) {
    it(`${name}: dx and dW agree to 1e-5 (relative to the largest value)`, async () => {
      const [cpuDx, cpuDw] = await gradients('cpu', op, xShape, wShape);
      const [wasmDx, wasmDw] = await gradients('wasm', op, xShape, wShape);
      expect(maxRelativeError(cpuDx!, wasmDx!)).toBeLessThan(1e-5);
      expect(maxRelativeError(cpuDw!, wasmDw!)).toBeLessThan(1e-5);
    });
  }

  it('frees every intermediate (no backend memory grows per call)', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([2, 9, 9, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 3, 4], -1, 1, 'float32', 2) as tf.Tensor4D;
    const dw = tf.randomUniform([3, 3, 3, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const step = (): void => {
      const [a, b] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same')),
      )([x, w]);
      const [c, d] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same')),
      )([x, dw]);
      tf.dispose([a!, b!, c!, d!]);
    };
    step();
    const before = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.engine().backend.numDataIds()).toBe(before);
    tf.dispose([x, w, dw]);
  });

  it('gives the same gradient for every weight of a small MobileNet as the cpu backend', async () => {
    const oneStep = async (backend: 'cpu' | 'wasm'): Promise<Map<string, Float32Array>> => {
      await tf.setBackend(backend);
      const model = buildMobileNetV1(tf, { alpha: 0.25, size: 32, classes: 5, dropout: 0, seed: 7 });
      const x = tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', 5);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5);
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      );
      // variableGrads keys by variable name, which tfjs makes unique per model (conv1_1/…);
      // the gradients come in the order of the trainable weights, the same for both models.
      const out = new Map<string, Float32Array>();
      Object.values(grads).forEach((grad, i) => {
        out.set(`${i} ${model.trainableWeights[i]?.originalName}`, grad.dataSync() as Float32Array);
      });
      tf.dispose([x, y, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const cpu = await oneStep('cpu');
    const wasm = await oneStep('wasm');
    expect(wasm.size).toBe(cpu.size);
    expect(cpu.size).toBeGreaterThan(50);
    for (const [name, expected] of cpu) {
      const actual = wasm.get(name);
      expect(actual, name).toBeDefined();
      expect(maxRelativeError(expected, actual!), name).toBeLessThan(1e-3);
    }
  }, 60_000);
});

describe('block-copy Tile on wasm', () => {
  const cases: Array<[number[], number[], 'float32' | 'int32' | 'bool']> = [
    [[1, 1, 1, 5], [4, 3, 2, 1], 'float32'],
    [[2, 3], [3, 2], 'int32'],
    [[2, 1, 3], [1, 4, 2], 'bool'],
    [[5], [1], 'float32'],
  ];
  for (const [shape, reps, dtype] of cases) {
    it(`tiles ${dtype} [${shape.join(',')}] by [${reps.join(',')}] exactly as the cpu backend`, async () => {
      const run = async (backend: 'cpu' | 'wasm'): Promise<number[]> => {
        await tf.setBackend(backend);
        const size = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(
          [...Array(size).keys()].map((i) => (dtype === 'bool' ? i % 2 : i * 1.5)),
          shape,
          dtype,
        );
        const tiled = tf.tile(x, reps);
        const values = Array.from(await tiled.data());
        tf.dispose([x, tiled]);
        return values;
      };
      const expected = await run('cpu');
      expect(await run('wasm')).toEqual(expected);
    });
  }
});
