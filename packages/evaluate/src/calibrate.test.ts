import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateModel } from './calibrate.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { TINY_LAYERS, TINY_PREPROCESSING, buildTinyModel, tinyDataset, tinyReference } from './tiny-model.fixture.js';

let runtime: EvalRuntime;
beforeAll(async () => {
  runtime = await createRuntime();
});

describe('calibrateModel', () => {
  it('records min/max of the input and of every layer output, matching a float64 reference', async () => {
    const dataset = tinyDataset(40);
    const ranges = await calibrateModel(runtime.tf, buildTinyModel(runtime.tf), dataset, {
      preprocessing: TINY_PREPROCESSING,
      batchSize: 7,
    });
    expect(ranges.method).toBe('minmax');
    expect(Object.keys(ranges.layers)).toEqual([...TINY_LAYERS]);
    const expected: Record<string, { min: number; max: number }> = {};
    for (let n = 0; n < 40; n++) {
      const outputs = tinyReference(dataset.images.subarray(n * 12, n * 12 + 12), TINY_PREPROCESSING);
      for (const [name, values] of Object.entries(outputs)) {
        const range = (expected[name] ??= { min: Infinity, max: -Infinity });
        range.min = Math.min(range.min, ...values);
        range.max = Math.max(range.max, ...values);
      }
    }
    expect(ranges.input.min).toBeCloseTo(expected.image!.min, 5);
    expect(ranges.input.max).toBeCloseTo(expected.image!.max, 5);
    for (const name of TINY_LAYERS) {
      expect(ranges.layers[name]!.min).toBeCloseTo(expected[name]!.min, 4);
      expect(ranges.layers[name]!.max).toBeCloseTo(expected[name]!.max, 4);
    }
  });

  it('clips a rare outlier with the percentile method, to within one histogram bin', async () => {
    // 600 input values 0..100 (pixels), one of them replaced by 255: min/max sees it, p99.5 does not.
    const dataset = tinyDataset(50);
    for (let i = 0; i < dataset.images.length; i++) dataset.images[i] = i % 101;
    dataset.images[123] = 255;
    const model = buildTinyModel(runtime.tf);
    const minmax = await calibrateModel(runtime.tf, model, dataset, { preprocessing: TINY_PREPROCESSING });
    expect(minmax.input.max).toBeCloseTo(1, 6);
    const clipped = await calibrateModel(runtime.tf, model, dataset, {
      preprocessing: TINY_PREPROCESSING,
      method: 'percentile',
      percentile: 99.5,
    });
    expect(clipped.method).toBe('percentile');
    expect(clipped.percentile).toBe(99.5);
    const bin = (minmax.input.max - minmax.input.min) / 4096;
    expect(Math.abs(clipped.input.max - (100 / 127.5 - 1))).toBeLessThanOrEqual(bin + 1e-6);
    expect(clipped.input.min).toBeCloseTo(-1, 6);
    for (const name of TINY_LAYERS) {
      expect(clipped.layers[name]!.min).toBeGreaterThanOrEqual(minmax.layers[name]!.min - 1e-9);
      expect(clipped.layers[name]!.max).toBeLessThanOrEqual(minmax.layers[name]!.max + 1e-9);
    }
  });

  it('refuses a bad percentile and an empty dataset', async () => {
    const model = buildTinyModel(runtime.tf);
    await expect(
      calibrateModel(runtime.tf, model, tinyDataset(4), {
        preprocessing: TINY_PREPROCESSING,
        method: 'percentile',
        percentile: 20,
      }),
    ).rejects.toMatchObject({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' });
    await expect(
      calibrateModel(runtime.tf, model, tinyDataset(0), { preprocessing: TINY_PREPROCESSING }),
    ).rejects.toMatchObject({
      code: 'MF_ERR_EVAL_DATASET_MISMATCH',
    });
  });
});
