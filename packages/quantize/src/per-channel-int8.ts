/**
 * Symmetric per-channel int8, as TFLite quantizes conv/dense weights: scale_c = max|w_c| / 127,
 * q = round(w / scale_c) in [-127, 127] (no -128, so the grid is symmetric), value = q * scale_c.
 * The rounding error is at most scale_c / 2 per element (plus float32 rounding of the product).
 */
import { channelCount } from '@modelfleet/model-format';
import { roundHalfAwayFromZero } from './rounding.js';

export interface PerChannelInt8 {
  readonly scales: Float32Array;
  readonly q: Int8Array;
}

export function quantizeSymmetricPerChannel(
  values: Float32Array,
  shape: readonly number[],
  axis: number,
): PerChannelInt8 {
  const c = channelCount(shape, axis);
  const maxAbs = new Float64Array(c);
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > maxAbs[i % c]!) maxAbs[i % c] = a;
  }
  const scales = new Float32Array(c);
  for (let k = 0; k < c; k++) scales[k] = maxAbs[k]! / 127;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = scales[i % c]!;
    if (s === 0) continue;
    q[i] = Math.max(-127, Math.min(127, roundHalfAwayFromZero(values[i]! / s)));
  }
  return { scales, q };
}
