/**
 * Magnitude pruning: the fraction `sparsity` of a tensor's values with the smallest |w| become 0;
 * values tied at the threshold are zeroed in index order, so exactly floor(sparsity * n) are zeroed.
 */
export function pruneByMagnitude(values: Float32Array, sparsity: number): Float32Array {
  const n = values.length;
  const zeroCount = Math.floor(sparsity * n);
  const out = Float32Array.from(values);
  if (zeroCount === 0) return out;
  const magnitudes = Float32Array.from(values, Math.abs).sort();
  const threshold = magnitudes[zeroCount - 1]!;
  let below = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]!) < threshold) below++;
  let tiesToZero = zeroCount - below;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]!);
    if (a < threshold) out[i] = 0;
    else if (a === threshold && tiesToZero > 0) {
      out[i] = 0;
      tiesToZero--;
    }
  }
  return out;
}
