/**
 * Deterministic 1-D k-means for weight clustering (a palette per tensor). Values are sorted once;
 * with sorted centroids every cluster is a contiguous run of the sorted values, so one Lloyd step is
 * K binary searches plus prefix sums — O(K log n) — instead of O(nK), and running Lloyd to its fixed
 * point is cheap.
 *
 * Lloyd only finds a local optimum, and the start matters: measured on 20,000 Laplace-distributed
 * weights with 256 entries, equal-count (quantile) starts end at MSE 4.1e-6, evenly spaced starts at
 * 8.9e-7. So two deterministic starts are run and the lower error wins: evenly spaced, and spaced by
 * the cube root of the value density (the high-resolution optimum for squared error, Panter–Dite).
 * No random seed is involved anywhere.
 */

export interface Palette {
  /** `entries` float32 centroids, ascending. */
  readonly centroids: Float32Array;
  /** Centroid index of every value. */
  readonly indices: Uint8Array;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Sorted {
  values: Float64Array;
  prefix: Float64Array;
  prefixSquares: Float64Array;
}

/** Runs Lloyd from `centroids` (ascending) to its fixed point; returns the sum of squared errors. */
function lloyd(data: Sorted, centroids: Float64Array, maxIterations: number): number {
  const { values: sorted, prefix, prefixSquares } = data;
  const n = sorted.length;
  const k = centroids.length;
  const starts = new Int32Array(k + 1);
  const assign = (): void => {
    starts[0] = 0;
    starts[k] = n;
    for (let j = 1; j < k; j++)
      starts[j] = Math.max(starts[j - 1]!, lowerBound(sorted, (centroids[j - 1]! + centroids[j]!) / 2));
  };
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    assign();
    let moved = false;
    for (let j = 0; j < k; j++) {
      const count = starts[j + 1]! - starts[j]!;
      if (count <= 0) continue; // an empty cluster keeps its centroid
      const mean = (prefix[starts[j + 1]!]! - prefix[starts[j]!]!) / count;
      if (mean !== centroids[j]) {
        centroids[j] = mean;
        moved = true;
      }
    }
    if (!moved) break;
  }
  assign();
  let sse = 0;
  for (let j = 0; j < k; j++) {
    const a = starts[j]!;
    const b = starts[j + 1]!;
    if (b <= a) continue;
    const c = centroids[j]!;
    sse += prefixSquares[b]! - prefixSquares[a]! - 2 * c * (prefix[b]! - prefix[a]!) + c * c * (b - a);
  }
  return sse;
}

function evenlySpaced(sorted: Float64Array, k: number): Float64Array {
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  return Float64Array.from({ length: k }, (_, j) => lo + ((hi - lo) * (j + 0.5)) / k);
}

/** Centroids at equal steps of the cumulative (density)^(1/3), from a 4096-bin histogram. */
function cubeRootDensitySpaced(sorted: Float64Array, k: number): Float64Array {
  const bins = 4096;
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  const width = (hi - lo) / bins || 1;
  const weight = new Float64Array(bins);
  for (const v of sorted) weight[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
  let total = 0;
  for (let b = 0; b < bins; b++) {
    weight[b] = Math.cbrt(weight[b]!);
    total += weight[b]!;
  }
  const out = new Float64Array(k);
  let b = 0;
  let cumulative = 0;
  for (let j = 0; j < k; j++) {
    const target = ((j + 0.5) / k) * total;
    while (b < bins - 1 && cumulative + weight[b]! < target) cumulative += weight[b++]!;
    const within = weight[b]! > 0 ? (target - cumulative) / weight[b]! : 0.5;
    out[j] = lo + (b + Math.min(1, Math.max(0, within))) * width;
  }
  return out;
}

export function kmeans1d(values: Float32Array, entries: number, maxIterations = 1000): Palette {
  const n = values.length;
  const sortedValues = Float64Array.from(values).sort();
  const prefix = new Float64Array(n + 1);
  const prefixSquares = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    prefix[i + 1] = prefix[i]! + sortedValues[i]!;
    prefixSquares[i + 1] = prefixSquares[i]! + sortedValues[i]! * sortedValues[i]!;
  }
  const data: Sorted = { values: sortedValues, prefix, prefixSquares };
  let best: Float64Array = new Float64Array(entries);
  if (n > 0) {
    let bestError = Infinity;
    for (const start of [evenlySpaced(sortedValues, entries), cubeRootDensitySpaced(sortedValues, entries)]) {
      const error = lloyd(data, start, maxIterations);
      if (error < bestError) {
        bestError = error;
        best = start;
      }
    }
  }

  const palette = Float32Array.from(best);
  const indices = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // nearest float32 centroid (palette is ascending)
    const v = values[i]!;
    let lo = 0;
    let hi = entries - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (palette[mid + 1]! <= v) lo = mid + 1;
      else hi = mid;
    }
    let choice = lo;
    if (lo + 1 < entries && Math.abs(palette[lo + 1]! - v) < Math.abs(v - palette[lo]!)) choice = lo + 1;
    if (lo > 0 && Math.abs(v - palette[lo - 1]!) < Math.abs(v - palette[choice]!)) choice = lo - 1;
    indices[i] = choice;
  }
  return { centroids: palette, indices };
}
