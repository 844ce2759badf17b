import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ELEMENT,
  ELEMENT_WIDTH,
  type ElementKind,
  TRANSFORM,
  type TransformParams,
  fromChannelMajor,
  reconstruct,
  residualOf,
  shuffle,
  toChannelMajor,
  unshuffle,
} from './transforms.js';

const kinds = Object.values(ELEMENT) as ElementKind[];

function paramsFor(kind: ElementKind, transform: number, scales: [number, number, number, number]): TransformParams {
  if (transform === TRANSFORM.affine)
    return { transform: 3, oldScale: scales[0], oldMin: scales[1], newScale: scales[2], newMin: scales[3] };
  if (transform === TRANSFORM.channel)
    return {
      transform: 4,
      oldScales: Float32Array.of(scales[0], scales[1]),
      newScales: Float32Array.of(scales[2], scales[3]),
    };
  return { transform: transform as 0 | 1 | 2 };
}

describe('transforms', () => {
  it('reconstruct inverts residualOf for every element kind and transform, on any bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 24 }),
        fc.uint8Array({ minLength: 96, maxLength: 96 }),
        fc.uint8Array({ minLength: 96, maxLength: 96 }),
        fc.tuple(fc.double(), fc.double(), fc.double(), fc.double()),
        (kind, transform, count, a, b, scales) => {
          if (transform === TRANSFORM.affine && kind !== ELEMENT.u8 && kind !== ELEMENT.u16) return;
          if (transform === TRANSFORM.channel && kind !== ELEMENT.i8) return;
          const length = count * ELEMENT_WIDTH[kind]!;
          const next = a.subarray(0, length);
          const old = b.subarray(0, length);
          const params = paramsFor(kind, transform, scales);
          const residual = residualOf(kind, params, next, old);
          expect(reconstruct(kind, params, residual, old)).toEqual(next.slice());
        },
      ),
      { numRuns: 1000 },
    );
  }, 30_000);

  it('sub makes a small change of a float a small residual', () => {
    const old = new Uint8Array(Float32Array.of(0.5, -0.25, 1e-8).buffer);
    const next = new Uint8Array(Float32Array.of(0.50000006, -0.24999999, -1e-8).buffer);
    const residual = new Uint32Array(residualOf(ELEMENT.f32, { transform: TRANSFORM.sub }, next, old).slice().buffer);
    expect(residual[0]).toBe(2);
    expect(residual[1]).toBeLessThan(16);
  });

  it('byte planes and channel-major order are permutations that invert', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.uint8Array({ maxLength: 64 }), (channels, bytes) => {
        const data = bytes.subarray(0, bytes.length - (bytes.length % channels));
        expect(fromChannelMajor(toChannelMajor(data, channels), channels)).toEqual(data.slice());
        const four = bytes.subarray(0, bytes.length - (bytes.length % 4));
        expect(unshuffle(shuffle(four, 4), 4)).toEqual(four.slice());
      }),
    );
  });
});
