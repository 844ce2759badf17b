import { beforeAll, describe, expect, it } from 'vitest';
import { SOFTMAX_INT8_PARAMS, affineParams, fakeQuantizeValue } from './affine-int8.js';
import { imageBatch } from './batches.js';
import { type ActivationRanges, calibrateModel } from './calibrate.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { simulateIntegerInference } from './simulate.js';
import { TINY_PREPROCESSING, buildTinyModel, tinyDataset, tinyReference } from './tiny-model.fixture.js';

let runtime: EvalRuntime;
let ranges: ActivationRanges;
const dataset = tinyDataset(30);

beforeAll(async () => {
  runtime = await createRuntime();
  ranges = await calibrateModel(runtime.tf, buildTinyModel(runtime.tf), dataset, { preprocessing: TINY_PREPROCESSING });
});

function simulated(options: { fuse?: boolean; integerIo?: boolean }): Float32Array {
  const { tf } = runtime;
  const simulation = simulateIntegerInference(tf, buildTinyModel(tf), { ranges, ...options });
  return tf.tidy(
    () => simulation.classify(imageBatch(tf, dataset, TINY_PREPROCESSING, 0, 30)).dataSync() as Float32Array,
  );
}

function reference(roundAt: (name: string) => ((value: number) => number) | undefined): number[][] {
  return Array.from(
    { length: 30 },
    (_, n) =>
      tinyReference(dataset.images.subarray(n * 12, n * 12 + 12), TINY_PREPROCESSING, (name, values) => {
        const round = roundAt(name);
        return round === undefined ? values : values.map(round);
      }).probs!,
  );
}

describe('simulateIntegerInference', () => {
  it('rounds where an int8 engine materialises tensors (conv+bn+relu6 fused), matching a hand-written reference', () => {
    const plan = simulateIntegerInference(runtime.tf, buildTinyModel(runtime.tf), { ranges }).plan;
    expect(plan.map((point) => `${point.tensor}:${point.treatment}`)).toEqual([
      'image:quantized (int8 input)',
      'conv:fused-into bn',
      'bn:fused-into relu',
      'relu:quantized',
      'flat:keeps-input-grid',
      'logits:quantized',
      'probs:fixed-softmax',
    ]);
    const expected = reference((name) => {
      if (name === 'image') return (value) => fakeQuantizeValue(value, affineParams(ranges.input));
      if (name === 'relu' || name === 'logits')
        return (value) => fakeQuantizeValue(value, affineParams(ranges.layers[name]!));
      if (name === 'probs') return (value) => fakeQuantizeValue(value, SOFTMAX_INT8_PARAMS);
      return undefined;
    });
    const actual = simulated({});
    expected.flat().forEach((value, i) => expect(Math.abs(actual[i]! - value)).toBeLessThan(1e-5));
  });

  it('stays within a few quantization steps of float inference', () => {
    const float = reference(() => undefined).flat();
    const actual = simulated({});
    const worst = Math.max(...float.map((value, i) => Math.abs(actual[i]! - value)));
    // Output grid is 1/256; upstream rounding of a few steps moves probabilities by at most ~0.03 here.
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(0.03);
  });

  it('quantizes every layer output when fusion is off', () => {
    const plan = simulateIntegerInference(runtime.tf, buildTinyModel(runtime.tf), { ranges, fuse: false }).plan;
    expect(plan.filter((point) => point.params !== undefined)).toHaveLength(7);
    const expected = reference((name) => {
      if (name === 'image') return (value) => fakeQuantizeValue(value, affineParams(ranges.input));
      if (name === 'probs') return (value) => fakeQuantizeValue(value, SOFTMAX_INT8_PARAMS);
      return (value) => fakeQuantizeValue(value, affineParams(ranges.layers[name]!));
    });
    const actual = simulated({ fuse: false });
    expected.flat().forEach((value, i) => expect(Math.abs(actual[i]! - value)).toBeLessThan(1e-5));
  });

  it('gives theta3 (uint8 input/output) the same arithmetic as theta2 and records it', () => {
    const plan = simulateIntegerInference(runtime.tf, buildTinyModel(runtime.tf), { ranges, integerIo: true }).plan;
    expect(plan[0]!.treatment).toBe('quantized (uint8 input)');
    expect(plan[0]!.params!.qmin).toBe(0);
    const int8 = simulated({});
    const uint8 = simulated({ integerIo: true });
    int8.forEach((value, i) => expect(uint8[i]).toBeCloseTo(value, 6));
  });

  it('refuses a layer without a calibrated range', () => {
    const { logits: _dropped, ...layers } = ranges.layers;
    expect(() =>
      simulateIntegerInference(runtime.tf, buildTinyModel(runtime.tf), { ranges: { ...ranges, layers } }),
    ).toThrow(expect.objectContaining({ code: 'MF_ERR_EVAL_MISSING_RANGE' }));
  });
});
