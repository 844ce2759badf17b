import { decodeTensor, int8Symbols } from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { kmeans1d } from './kmeans.js';
import { pruneByMagnitude } from './prune.js';
import { pruneAndEntropyCode, quantizePerChannelInt8 } from './quantizers.js';
import { seededRandom, syntheticDense } from './testing/synthetic-artifact.js';

const mse = (a: Float32Array, b: ArrayLike<number>) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

describe('k-means palette', () => {
  const random = seededRandom(9);
  const values = Float32Array.from({ length: 20_000 }, () => {
    const u = random();
    return (u < 0.5 ? -1 : 1) * Math.log(1 / (1 - random())) * 0.05; // Laplace, like trained weights
  });

  it('is deterministic and assigns every value to its nearest centroid', () => {
    const a = kmeans1d(values, 16);
    const b = kmeans1d(values, 16);
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    for (let k = 1; k < 16; k++) expect(a.centroids[k]!).toBeGreaterThanOrEqual(a.centroids[k - 1]!);
    let notNearest = 0;
    values.forEach((v, i) => {
      const chosen = Math.abs(v - a.centroids[a.indices[i]!]!);
      for (const c of a.centroids) if (chosen > Math.abs(v - c)) notNearest++;
    });
    expect(notNearest).toBe(0);
  });

  it('beats a uniform 16-level grid and improves with 256 entries', () => {
    const { centroids, indices } = kmeans1d(values, 16);
    const clustered = mse(
      values,
      Array.from(indices, (k) => centroids[k]!),
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const step = (hi - lo) / 15;
    const uniform = mse(
      values,
      Array.from(values, (v) => lo + Math.round((v - lo) / step) * step),
    );
    expect(clustered).toBeLessThan(uniform * 0.5);
    const fine = kmeans1d(values, 256);
    expect(
      mse(
        values,
        Array.from(fine.indices, (k) => fine.centroids[k]!),
      ),
    ).toBeLessThan(clustered / 50);
  });
});

describe('magnitude pruning + rANS', () => {
  it('zeroes exactly the requested fraction, smallest magnitudes first', () => {
    const random = seededRandom(4);
    const values = Float32Array.from({ length: 1001 }, () => random() * 2 - 1);
    const pruned = pruneByMagnitude(values, 0.3);
    const zeroed = Array.from(pruned).filter((v, i) => v === 0 && values[i] !== 0).length;
    expect(zeroed).toBe(300);
    const largestZeroed = Math.max(
      ...Array.from(values)
        .filter((_, i) => pruned[i] === 0)
        .map(Math.abs),
    );
    const smallestKept = Math.min(
      ...Array.from(pruned)
        .filter((v) => v !== 0)
        .map(Math.abs),
    );
    expect(largestZeroed).toBeLessThanOrEqual(smallestKept);
    // ties at the threshold are broken by position, still exactly floor(s * n)
    expect(pruneByMagnitude(new Float32Array(10).fill(0.5), 0.45).filter((v) => v === 0).length).toBe(4);
  });

  it('the coded kernel decodes exactly to the pruned per-channel int8 values', () => {
    const source = syntheticDense();
    const out = pruneAndEntropyCode(source, { sparsity: 0.5 });
    const coded = out.tensors.find((t) => t.name === 'fc/kernel')!;
    expect(coded.encoding).toMatchObject({ kind: 'sparse-rans', axis: 1 });
    const q = int8Symbols(coded);
    expect(q.filter((v) => v === 0).length).toBeGreaterThanOrEqual(q.length * 0.5);
    // same int8 grid as per-channel int8 of the pruned values, symbol for symbol
    const original = decodeTensor(source.tensors[0]!);
    const pruned = pruneByMagnitude(original, 0.5);
    const reference = quantizePerChannelInt8({
      ...source,
      tensors: [{ ...source.tensors[0]!, bytes: new Uint8Array(pruned.buffer) }, source.tensors[1]!],
    });
    expect(Array.from(q)).toEqual(Array.from(int8Symbols(reference.tensors[0]!)));
    expect(Array.from(decodeTensor(coded))).toEqual(Array.from(decodeTensor(reference.tensors[0]!)));
    // and it is much smaller than plain int8
    expect(coded.bytes.length).toBeLessThan(reference.tensors[0]!.bytes.length * 0.7);
  });
});
