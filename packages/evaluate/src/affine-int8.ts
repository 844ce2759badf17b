import type * as tfTypes from '@tensorflow/tfjs';
import { EvalInvalidArgument } from './errors.js';

type Tensor = tfTypes.Tensor;

export interface ValueRange {
  min: number;
  max: number;
}

/** Per-tensor affine quantization: real = (q - zeroPoint) * scale, q an integer in [qmin, qmax]. */
export interface AffineParams {
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/** Half away from zero, as TFLite's reference kernels round (TfLiteRound / std::round), not tf.round's half-to-even. */
export function roundHalfAwayFromZero(value: number): number {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}

/**
 * Affine parameters for a calibrated range, the way the TFLite converter derives them: the range is
 * widened to contain 0 (so zero padding and ReLU's zero are exact), scale = (max - min) / 255 and the
 * zero point is the integer nearest to where real 0 falls, clamped into the integer range.
 * `int8` gives q in [-128, 127]; `uint8` (theta3's integer input/output) q in [0, 255], the same grid shifted by 128.
 */
export function affineParams(range: ValueRange, type: 'int8' | 'uint8' = 'int8'): AffineParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new EvalInvalidArgument(`activation range [${range.min}, ${range.max}]`);
  }
  const qmin = type === 'int8' ? -128 : 0;
  const qmax = type === 'int8' ? 127 : 255;
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (max === min) return { scale: 1, zeroPoint: type === 'int8' ? 0 : 128, qmin, qmax };
  const scale = (max - min) / (qmax - qmin);
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfAwayFromZero(qmin - min / scale)));
  return { scale, zeroPoint, qmin, qmax };
}

/** TFLite's fixed output quantization of (int8) softmax: scale 1/256, zero point -128, so [0, 255/256]. */
export const SOFTMAX_INT8_PARAMS: AffineParams = { scale: 1 / 256, zeroPoint: -128, qmin: -128, qmax: 127 };

/** Quantizes one value: the integer TFLite would store. */
export function quantizeValue(value: number, params: AffineParams): number {
  const q = roundHalfAwayFromZero(value / params.scale) + params.zeroPoint;
  return Math.min(params.qmax, Math.max(params.qmin, q));
}

/** Quantize then dequantize one value (the reference the tensor version is tested against). */
export function fakeQuantizeValue(value: number, params: AffineParams): number {
  return (quantizeValue(value, params) - params.zeroPoint) * params.scale;
}

/** Quantize-dequantize every element of a tensor: round half away from zero, clamp, rescale. */
export function fakeQuantize(tf: typeof tfTypes, x: Tensor, params: AffineParams): Tensor {
  return tf.tidy(() => {
    const scaled = tf.div(x, params.scale);
    const rounded = tf.mul(tf.sign(scaled), tf.floor(tf.add(tf.abs(scaled), 0.5)));
    const q = tf.clipByValue(tf.add(rounded, params.zeroPoint), params.qmin, params.qmax);
    return tf.mul(tf.sub(q, params.zeroPoint), params.scale);
  });
}
