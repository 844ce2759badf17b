/**
 * Deltas across encodings: when a release changes how a tensor is stored (float32 or float16 to uint8
 * or int8, uint8 to int8, …), the new integers are predicted by quantizing the old tensor's values
 * on the new grid, and only the difference is sent. A float model re-released as int8 costs its scales
 * plus near-zero residuals instead of the whole int8 tensor.
 */
import { float16BitsToFloat32, float32ToFloat16Bits } from '@modelfleet/model-format';

/** How to read values out of the old tensor's bytes. */
export const OLD_ENCODING = { float32: 0, float16: 1, affine8: 2, int8PerChannel: 3 } as const;
export type OldEncoding =
  | { readonly kind: 0 }
  | { readonly kind: 1 }
  | { readonly kind: 2; readonly scale: number; readonly min: number }
  | { readonly kind: 3; readonly channels: number };

/** The old tensor's values, or undefined when its bytes cannot hold `count` of them. */
export function oldValues(bytes: Uint8Array, encoding: OldEncoding, count: number): Float64Array | undefined {
  const out = new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (encoding.kind) {
    case 0:
      if (bytes.length !== count * 4) return undefined;
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 1:
      if (bytes.length !== count * 2) return undefined;
      for (let i = 0; i < count; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
      return out;
    case 2:
      if (bytes.length !== count) return undefined;
      for (let i = 0; i < count; i++) out[i] = bytes[i]! * encoding.scale + encoding.min;
      return out;
    case 3: {
      const c = encoding.channels;
      if (c === 0 || bytes.length !== 4 * c + count) return undefined;
      for (let i = 0; i < count; i++) out[i] = view.getInt8(4 * c + i) * view.getFloat32((i % c) * 4, true);
      return out;
    }
  }
}

const finiteOr0 = (x: number): number => (Number.isFinite(x) ? x : 0);

/** uint8 affine grid {scale, min}: round((v - min) / scale), clamped to 0..255. */
export function predictAffine8(values: Float64Array, scale: number, min: number): Uint8Array {
  const out = new Uint8Array(values.length);
  if (!(scale > 0) || !Number.isFinite(scale)) return out;
  for (let i = 0; i < values.length; i++)
    out[i] = Math.min(255, Math.max(0, finiteOr0(Math.round((values[i]! - min) / scale))));
  return out;
}

/** Symmetric int8 per channel (channel = i mod C): round(v / s[c]), clamped to -127..127, as bytes. */
export function predictInt8(values: Float64Array, scales: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  const c = scales.length;
  if (c === 0) return out;
  for (let i = 0; i < values.length; i++) {
    const s = scales[i % c]!;
    const q = s > 0 && Number.isFinite(s) ? finiteOr0(Math.round(values[i]! / s)) : 0;
    out[i] = Math.min(127, Math.max(-127, q)) & 0xff;
  }
  return out;
}

/**
 * Per-channel factors mapping old values onto new ones (least squares, channel = i mod C, as float32).
 * Quantizers fold batch normalisation into the kernels (w' = w * gamma / sqrt(var + eps) per output
 * channel), so a float release re-encoded as int8 has kernels that are the old ones times a factor per
 * channel; the factors make the prediction exact up to rounding.
 */
export function channelFactors(oldValues: Float64Array, newValues: ArrayLike<number>, channels: number): Float32Array {
  const dot = new Float64Array(channels);
  const norm = new Float64Array(channels);
  for (let i = 0; i < oldValues.length; i++) {
    const c = i % channels;
    dot[c] = dot[c]! + oldValues[i]! * newValues[i]!;
    norm[c] = norm[c]! + oldValues[i]! * oldValues[i]!;
  }
  const out = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const f = norm[c]! > 0 ? dot[c]! / norm[c]! : 1;
    out[c] = Number.isFinite(f) ? f : 1;
  }
  return out;
}

/** values[i] * factors[i mod C], in place. */
export function applyFactors(values: Float64Array, factors: Float32Array): Float64Array {
  const c = factors.length;
  if (c > 0) for (let i = 0; i < values.length; i++) values[i] = values[i]! * factors[i % c]!;
  return values;
}

/** float16 bits of the values, as little-endian bytes. */
export function predictFloat16(values: Float64Array): Uint8Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = float32ToFloat16Bits(values[i]!);
  return new Uint8Array(bits.buffer);
}
