/**
 * IEEE 754 half precision <-> float32, bit exact.
 *
 * Decoding matches stock TF.js 4.22 (`getFloat16Decoder` in tfjs-core io_utils, the table method of
 * fox-toolkit's "Fast Half Float Conversions") for every finite half: normals and subnormals widen
 * exactly, so a plain bit-level conversion gives the same float32. Halves with exponent 31 (Inf/NaN)
 * are never produced by the encoder and are refused by the reader, because TF.js decodes them to
 * ±65536 (its exponent table maps 31 to 2^16), not to Inf/NaN.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export const FLOAT16_MAX = 65504;

/** True when the half bit pattern is Inf or NaN. */
export function isFloat16NonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}

export function float16BitsToFloat32(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) {
    // zero or subnormal: mantissa * 2^-24, exact in float32
    const magnitude = mantissa * 2 ** -24;
    return sign !== 0 ? -magnitude : magnitude;
  }
  u32[0] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  return f32[0]!;
}

/**
 * Rounds a float32 (given as a JS number that is a float32 value) to the nearest half, ties to even.
 * Returns the half bit pattern, or -1 when the value is not finite or rounds beyond the half range.
 */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return -1;
  const unbiased = exponent - 127;
  if (unbiased > 15) return -1;
  if (unbiased >= -14) {
    // normal half: keep 10 mantissa bits, round the 13 dropped bits to nearest even
    let half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    const dropped = mantissa & 0x1fff;
    if (dropped > 0x1000 || (dropped === 0x1000 && (half & 1) === 1)) half += 1; // may carry into the exponent: still correct
    if ((half & 0x7c00) === 0x7c00) return -1;
    return sign | half;
  }
  if (unbiased < -25) return sign; // rounds to (signed) zero
  // subnormal half: value = m * 2^-24 with m < 1024; rounding is exact in double arithmetic
  const magnitude = Math.abs(f32[0]!) * 2 ** 24;
  let m = Math.floor(magnitude);
  const fraction = magnitude - m;
  if (fraction > 0.5 || (fraction === 0.5 && (m & 1) === 1)) m += 1;
  return sign | m; // m === 1024 becomes the smallest normal, which is the right pattern
}

export function encodeFloat16(values: Float32Array): { bits: Uint16Array; outOfRange: boolean } {
  const bits = new Uint16Array(values.length);
  let outOfRange = false;
  for (let i = 0; i < values.length; i++) {
    const h = float32ToFloat16Bits(values[i]!);
    if (h < 0) {
      outOfRange = true;
      break;
    }
    bits[i] = h;
  }
  return { bits, outOfRange };
}
