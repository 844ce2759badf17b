import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classCounts } from '../dataset.js';
import { generateSynthetic } from './generate.js';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('generateSynthetic', () => {
  it('gives identical bytes for the same seed', () => {
    const a = generateSynthetic({ seed: 7, count: 20, size: 32 });
    const b = generateSynthetic({ seed: 7, count: 20, size: 32 });
    expect(sha(a.images)).toBe(sha(b.images));
    expect([...a.labels]).toEqual([...b.labels]);
  });

  it('gives different images for another seed', () => {
    const a = generateSynthetic({ seed: 7, count: 10, size: 32 });
    const b = generateSynthetic({ seed: 8, count: 10, size: 32 });
    expect(sha(a.images)).not.toBe(sha(b.images));
  });

  it('renders image i from its own stream, so a prefix of a larger set is the smaller set', () => {
    const small = generateSynthetic({ seed: 3, count: 6, size: 24 });
    const large = generateSynthetic({ seed: 3, count: 12, size: 24 });
    expect(sha(large.images.subarray(0, small.images.length))).toBe(sha(small.images));
  });

  it('balances the five classes and fills the RGB buffer', () => {
    const ds = generateSynthetic({ seed: 1, count: 50, size: 32 });
    expect(ds.classNames).toEqual(['pet_bottle', 'glass_bottle', 'aluminium_can', 'steel_can', 'carton']);
    expect(classCounts(ds)).toEqual([10, 10, 10, 10, 10]);
    expect(ds.images.length).toBe(50 * 32 * 32 * 3);
    // Not a blank or saturated image: pixel values spread over the range.
    const first = ds.images.subarray(0, 32 * 32 * 3);
    const min = Math.min(...first);
    const max = Math.max(...first);
    expect(max - min).toBeGreaterThan(60);
  });

  it('changes the scene when the conditions change', () => {
    const normal = generateSynthetic({ seed: 5, count: 10, size: 32 });
    const dim = generateSynthetic({ seed: 5, count: 10, size: 32, conditions: { brightness: [0.4, 0.6] } });
    const mean = (bytes: Uint8Array): number => bytes.reduce((sum, value) => sum + value, 0) / bytes.length;
    expect(mean(dim.images)).toBeLessThan(mean(normal.images) * 0.8);
  });

  it('refuses arguments that cannot describe a dataset', () => {
    expect(() => generateSynthetic({ seed: 1.5, count: 1, size: 32 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_DATASET_INVALID_ARGUMENT' }),
    );
    expect(() => generateSynthetic({ seed: 1, count: 1, size: 4 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_DATASET_INVALID_ARGUMENT' }),
    );
  });
});
