import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits, isFloat16NonFinite } from './float16.js';

describe('float16', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('decodes every finite half exactly as stock TF.js 4.22 does', () => {
    const patterns: number[] = [];
    for (let h = 0; h < 0x10000; h++) if (!isFloat16NonFinite(h)) patterns.push(h);
    const bits = Uint16Array.from(patterns);
    const decoded = tf.io.decodeWeights(bits.buffer, [
      { name: 'all', shape: [bits.length], dtype: 'float32', quantization: { dtype: 'float16' } },
    ]);
    const stock = decoded['all']!.dataSync() as Float32Array;
    let mismatches = 0;
    for (let i = 0; i < bits.length; i++) if (!Object.is(stock[i], float16BitsToFloat32(bits[i]!))) mismatches++;
    expect(patterns.length).toBe(63488);
    expect(mismatches).toBe(0);
  });

  it('rounds to nearest, ties to even, and round-trips every finite half', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(-1); // rounds to Inf: refused
    expect(float32ToFloat16Bits(Number.NaN)).toBe(-1);
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // tie to even (zero)
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp ties to 2
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa kept
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, rounds up to even
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    for (let h = 0; h < 0x10000; h++) {
      if (isFloat16NonFinite(h)) continue;
      const back = float32ToFloat16Bits(float16BitsToFloat32(h));
      if (back !== h) throw new Error(`half ${h.toString(16)} came back as ${back.toString(16)}`);
    }
  });

  it('chooses the nearer half for values between two halves', () => {
    for (const x of [0.1, 0.2, 1 / 3, -7.77, 1234.567, 3e-6, -6e-8]) {
      const v = Math.fround(x);
      const h = float32ToFloat16Bits(v);
      const error = Math.abs(float16BitsToFloat32(h) - v);
      expect(error).toBeLessThanOrEqual(Math.abs(float16BitsToFloat32(h + 1) - v));
      expect(error).toBeLessThanOrEqual(Math.abs(float16BitsToFloat32(h - 1) - v));
    }
  });
});
