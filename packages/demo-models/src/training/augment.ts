import type { Prng } from '@modelfleet/datasets';

/**
 * One of the 8 symmetries of the square (flips and quarter turns) per image, in place, on an
 * NHWC float batch of square images. Items lie on the belt in any orientation, so these are
 * label-preserving and multiply the 1,360 training images without changing what is to be learnt.
 */
export function augmentDihedral(batch: Float32Array, count: number, size: number, prng: Prng): void {
  const pixels = size * size;
  const image = new Float32Array(pixels * 3);
  for (let n = 0; n < count; n++) {
    const symmetry = prng.int(8);
    if (symmetry === 0) continue;
    const base = n * pixels * 3;
    image.set(batch.subarray(base, base + pixels * 3));
    const transpose = (symmetry & 4) !== 0;
    const flipY = (symmetry & 2) !== 0;
    const flipX = (symmetry & 1) !== 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let sy = transpose ? x : y;
        let sx = transpose ? y : x;
        if (flipY) sy = size - 1 - sy;
        if (flipX) sx = size - 1 - sx;
        const to = base + (y * size + x) * 3;
        const from = (sy * size + sx) * 3;
        batch[to] = image[from]!;
        batch[to + 1] = image[from + 1]!;
        batch[to + 2] = image[from + 2]!;
      }
    }
  }
}
