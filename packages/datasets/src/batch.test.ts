import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { toFloatBatch, toOneHot } from './batch.js';

const ds: Dataset = {
  classNames: ['a', 'b', 'c'],
  height: 1,
  width: 2,
  channels: 3,
  images: new Uint8Array([0, 255, 127, 10, 20, 30, 1, 2, 3, 4, 5, 6]),
  labels: new Uint8Array([2, 0]),
};

describe('toFloatBatch', () => {
  it('applies x = pixel * scale + offset in NHWC order', () => {
    const batch = toFloatBatch(ds, { scale: 1 / 127.5, offset: -1, count: 1 });
    expect(batch.length).toBe(6);
    expect(batch[0]).toBeCloseTo(-1, 6);
    expect(batch[1]).toBeCloseTo(1, 6);
    expect(batch[2]).toBeCloseTo(127 / 127.5 - 1, 6);
    expect([...toFloatBatch(ds, { scale: 1, offset: 0, start: 1 })]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a range outside the dataset', () => {
    expect(() => toFloatBatch(ds, { scale: 1, offset: 0, start: 1, count: 2 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_DATASET_INVALID_ARGUMENT' }),
    );
  });
});

describe('toOneHot', () => {
  it('writes one row per label', () => {
    expect([...toOneHot(ds)]).toEqual([0, 0, 1, 1, 0, 0]);
  });
});
