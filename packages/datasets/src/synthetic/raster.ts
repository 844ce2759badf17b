/**
 * A tiny float RGB rasteriser for the synthetic generator. Coordinates are normalised to the
 * unit square (x right, y down), so one scene renders at any pixel size. Shapes are drawn by a
 * shader function evaluated at `SUBSAMPLES`² points per pixel; the fraction of points covered
 * is the pixel's coverage, which anti-aliases edges without any geometry code.
 */
export type Rgb = readonly [number, number, number];

export interface Canvas {
  width: number;
  height: number;
  /** RGB, 0..255 floats, row-major. */
  pixels: Float32Array;
}

/** Returns the alpha (0 = not covered) at (x, y) and writes the colour into `colour`. */
export type Shader = (x: number, y: number, colour: Float32Array) => number;

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const SUBSAMPLES = 2;

export function createCanvas(width: number, height: number): Canvas {
  return { width, height, pixels: new Float32Array(width * height * 3) };
}

export function boundsAround(x: number, y: number, radius: number): Bounds {
  return { minX: x - radius, minY: y - radius, maxX: x + radius, maxY: y + radius };
}

/** Every pixel gets `shader`'s colour over what is there, weighted by alpha × coverage. */
export function paint(canvas: Canvas, shader: Shader, bounds?: Bounds): void {
  const { width, height, pixels } = canvas;
  const x0 = Math.max(0, Math.floor((bounds?.minX ?? 0) * width));
  const x1 = Math.min(width, Math.ceil((bounds?.maxX ?? 1) * width));
  const y0 = Math.max(0, Math.floor((bounds?.minY ?? 0) * height));
  const y1 = Math.min(height, Math.ceil((bounds?.maxY ?? 1) * height));
  const colour = new Float32Array(3);
  const samples = SUBSAMPLES * SUBSAMPLES;
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      let alpha = 0;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          const a = shader((px + (sx + 0.5) / SUBSAMPLES) / width, (py + (sy + 0.5) / SUBSAMPLES) / height, colour);
          if (a <= 0) continue;
          alpha += a;
          r += a * colour[0]!;
          g += a * colour[1]!;
          b += a * colour[2]!;
        }
      }
      if (alpha === 0) continue;
      const keep = 1 - alpha / samples;
      const i = (py * width + px) * 3;
      pixels[i] = pixels[i]! * keep + r / samples;
      pixels[i + 1] = pixels[i + 1]! * keep + g / samples;
      pixels[i + 2] = pixels[i + 2]! * keep + b / samples;
    }
  }
}

/** Multiplies every pixel by `factor(x, y)` (lighting, shadows). */
export function modulate(canvas: Canvas, factor: (x: number, y: number) => number): void {
  const { width, height, pixels } = canvas;
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const f = factor((px + 0.5) / width, (py + 0.5) / height);
      const i = (py * width + px) * 3;
      pixels[i] = pixels[i]! * f;
      pixels[i + 1] = pixels[i + 1]! * f;
      pixels[i + 2] = pixels[i + 2]! * f;
    }
  }
}

/** HSV (h in turns, s and v in 0..1) to RGB 0..255. */
export function hsv(h: number, s: number, v: number): Rgb {
  const hh = (((h % 1) + 1) % 1) * 6;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const sector = Math.floor(hh);
  const [r, g, b] =
    sector === 0
      ? [c, x, 0]
      : sector === 1
        ? [x, c, 0]
        : sector === 2
          ? [0, c, x]
          : sector === 3
            ? [0, x, c]
            : sector === 4
              ? [x, 0, c]
              : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

export function setColour(out: Float32Array, rgb: Rgb, shade = 1, add = 0): void {
  out[0] = rgb[0] * shade + add;
  out[1] = rgb[1] * shade + add;
  out[2] = rgb[2] * shade + add;
}

/** Writes the canvas as uint8 with rounding and clamping into `out` at `offset`. */
export function toBytes(canvas: Canvas, out: Uint8Array, offset: number): void {
  const { pixels } = canvas;
  for (let i = 0; i < pixels.length; i++) {
    const value = Math.round(pixels[i]!);
    out[offset + i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
}
