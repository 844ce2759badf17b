/**
 * Per-tensor affine uint8 (theta1, stock TF.js `quantization: {dtype: 'uint8', scale, min}`), with the
 * range widened to contain 0 and `min` nudged onto the grid so that 0.0 is exactly representable,
 * as the tfjs converter's --quantize_uint8 does. TF.js dequantizes q * scale + min.
 */
import { roundHalfAwayFromZero } from './rounding.js';

export interface AffineUint8 {
  readonly scale: number;
  readonly min: number;
  readonly q: Uint8Array;
}

export function quantizeAffineUint8(values: Float32Array): AffineUint8 {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) return { scale: 1, min: 0, q: new Uint8Array(values.length) };
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.min(255, Math.max(0, roundHalfAwayFromZero(-lo / scale)));
  const min = -zeroPoint * scale;
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    q[i] = Math.max(0, Math.min(255, roundHalfAwayFromZero((values[i]! - min) / scale)));
  return { scale, min, q };
}
