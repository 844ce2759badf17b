import { beforeAll, describe, expect, it } from 'vitest';
import {
  SOFTMAX_INT8_PARAMS,
  affineParams,
  fakeQuantize,
  fakeQuantizeValue,
  quantizeValue,
  roundHalfAwayFromZero,
} from './affine-int8.js';
import { type EvalRuntime, createRuntime } from './runtime.js';

let runtime: EvalRuntime;
beforeAll(async () => {
  runtime = await createRuntime();
});

describe('affine int8 parameters', () => {
  it('rounds half away from zero like TFLite', () => {
    expect([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5].map(roundHalfAwayFromZero)).toEqual([-3, -2, -1, 1, 2, 3]);
  });

  it('widens the range to contain zero and represents zero exactly', () => {
    const positive = affineParams({ min: 0.5, max: 2 });
    expect(positive.zeroPoint).toBe(-128);
    expect(positive.scale).toBeCloseTo(2 / 255, 12);
    const negative = affineParams({ min: -3, max: -1 });
    expect(negative.zeroPoint).toBe(127);
    for (const range of [
      { min: -1, max: 1 },
      { min: -0.37, max: 5.2 },
      { min: 0, max: 6 },
    ]) {
      expect(fakeQuantizeValue(0, affineParams(range))).toBe(0);
    }
  });

  it('gives the uint8 grid as the int8 grid shifted by 128', () => {
    const range = { min: -0.37, max: 5.2 };
    const int8 = affineParams(range, 'int8');
    const uint8 = affineParams(range, 'uint8');
    expect(uint8.scale).toBe(int8.scale);
    expect(uint8.zeroPoint).toBe(int8.zeroPoint + 128);
    for (const value of [-0.37, 0, 0.1234, 5.2, 7]) {
      expect(fakeQuantizeValue(value, uint8)).toBeCloseTo(fakeQuantizeValue(value, int8), 12);
    }
  });

  it('clamps out-of-range values and keeps in-range error within half a step', () => {
    const params = affineParams({ min: -1, max: 1 });
    expect(quantizeValue(5, params)).toBe(127);
    expect(quantizeValue(-5, params)).toBe(-128);
    for (let value = -1; value <= 1; value += 0.0137) {
      expect(Math.abs(fakeQuantizeValue(value, params) - value)).toBeLessThanOrEqual(params.scale / 2 + 1e-12);
    }
  });

  it('uses the fixed softmax grid of 1/256', () => {
    expect(fakeQuantizeValue(1, SOFTMAX_INT8_PARAMS)).toBeCloseTo(255 / 256, 12);
    expect(fakeQuantizeValue(0.5, SOFTMAX_INT8_PARAMS)).toBeCloseTo(0.5, 12);
  });

  it('refuses a non-finite or inverted range', () => {
    expect(() => affineParams({ min: 1, max: 0 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }),
    );
    expect(() => affineParams({ min: 0, max: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }),
    );
  });

  it('fake-quantizes a tensor on the runtime exactly as the scalar reference', () => {
    const { tf } = runtime;
    const params = affineParams({ min: -0.8, max: 3.1 });
    const values = Array.from({ length: 257 }, (_, i) => -1.2 + i * 0.01731);
    const result = fakeQuantize(tf, tf.tensor1d(values), params).dataSync();
    values.forEach((value, i) => expect(result[i]).toBeCloseTo(fakeQuantizeValue(value, params), 5));
  });
});
