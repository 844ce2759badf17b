import { describe, expect, it } from 'vitest';
import { RansDecodeError, ransDecode, ransEncode } from './rans.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('rANS', () => {
  it('round-trips skewed, uniform, single-symbol and empty inputs exactly', () => {
    const random = lcg(7);
    const skewed = new Uint8Array(50_000).map(() => (random() < 0.8 ? 128 : Math.floor(random() * 255) + 1));
    const uniform = new Uint8Array(10_000).map(() => Math.floor(random() * 256));
    const single = new Uint8Array(1000).fill(3);
    for (const input of [skewed, uniform, single, new Uint8Array([9]), new Uint8Array(0)]) {
      expect(ransDecode(ransEncode(input), input.length)).toEqual(input);
    }
  });

  it('codes a mostly-zero stream well below one byte per symbol', () => {
    const random = lcg(3);
    const sparse = new Uint8Array(100_000).map(() => (random() < 0.9 ? 128 : 100 + Math.floor(random() * 56)));
    const coded = ransEncode(sparse);
    // entropy ~ 0.47 + 0.1*log2(56) ~ 1.05 bits/symbol
    expect(coded.length).toBeLessThan(sparse.length * 0.15);
  });

  it('refuses corrupt streams instead of returning wrong symbols', () => {
    const random = lcg(11);
    const input = new Uint8Array(5000).map(() => (random() < 0.7 ? 128 : Math.floor(random() * 256)));
    const coded = ransEncode(input);
    expect(() => ransDecode(coded.subarray(0, coded.length - 3), input.length)).toThrow(RansDecodeError);
    expect(() => ransDecode(coded, input.length + 5)).toThrow(RansDecodeError);
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      const corrupt = coded.slice();
      const at = 2 + Math.floor(random() * (corrupt.length - 2));
      corrupt[at] = corrupt[at]! ^ (1 + Math.floor(random() * 255));
      try {
        const out = ransDecode(corrupt, input.length);
        expect(out.length).toBe(input.length); // an undetected flip still yields a bounded output
      } catch (error) {
        expect(error).toBeInstanceOf(RansDecodeError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(40);
  });
});
