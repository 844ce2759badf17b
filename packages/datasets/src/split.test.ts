import { describe, expect, it } from 'vitest';
import { classCounts, type Dataset } from './dataset.js';
import { sampleStratified, splitDataset } from './split.js';

/** 100 one-pixel images whose red value is their index, classes 0..4 with 30/30/20/10/10 images. */
function indexed(): Dataset {
  const labels = new Uint8Array(100).map((_, i) => (i < 30 ? 0 : i < 60 ? 1 : i < 80 ? 2 : i < 90 ? 3 : 4));
  const images = new Uint8Array(300).map((_, i) => (i % 3 === 0 ? i / 3 : 0));
  return { classNames: ['a', 'b', 'c', 'd', 'e'], height: 1, width: 1, channels: 3, images, labels };
}

const ids = (ds: Dataset): number[] => [...ds.images].filter((_, i) => i % 3 === 0);

describe('splitDataset', () => {
  it('splits 80/20 within every class, disjoint and complete', () => {
    const { train, test } = splitDataset(indexed(), 0.8, 42);
    expect(classCounts(train)).toEqual([24, 24, 16, 8, 8]);
    expect(classCounts(test)).toEqual([6, 6, 4, 2, 2]);
    const all = [...ids(train), ...ids(test)].sort((a, b) => a - b);
    expect(all).toEqual([...Array(100).keys()]);
    // Labels travel with their images.
    train.labels.forEach((label, i) => expect(label).toBe(indexed().labels[ids(train)[i]!]));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(ids(splitDataset(indexed(), 0.8, 1).test)).toEqual(ids(splitDataset(indexed(), 0.8, 1).test));
    expect(ids(splitDataset(indexed(), 0.8, 1).test)).not.toEqual(ids(splitDataset(indexed(), 0.8, 2).test));
  });

  it('refuses a fraction outside (0, 1)', () => {
    expect(() => splitDataset(indexed(), 1, 1)).toThrow(
      expect.objectContaining({ code: 'MF_ERR_DATASET_INVALID_ARGUMENT' }),
    );
  });
});

describe('sampleStratified', () => {
  it('draws a balanced sample without repeats', () => {
    const sample = sampleStratified(indexed(), 25, 9);
    expect(classCounts(sample)).toEqual([5, 5, 5, 5, 5]);
    expect(new Set(ids(sample)).size).toBe(25);
  });
});
