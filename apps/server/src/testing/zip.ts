import { zipSync, type Zippable } from 'fflate';
import sharp from 'sharp';

/** A solid-colour PNG: a real image the dataset importer decodes (and resizes) like any photo. */
export async function solidPng(size: number, rgb: readonly [number, number, number]): Promise<Uint8Array> {
  const png = await sharp({
    create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/**
 * A .zip of class folders (`<class>/<n>.png`), `perClass` images each, every class its own colour.
 * `extra` adds entries by raw path (e.g. `../evil.png`) exactly as given.
 */
export async function classFolderZip(
  classNames: readonly string[],
  perClass: number,
  options: { size?: number; extra?: Record<string, Uint8Array> } = {},
): Promise<Uint8Array> {
  const size = options.size ?? 32;
  const files: Record<string, Uint8Array> = {};
  for (const [index, className] of classNames.entries()) {
    const png = await solidPng(size, [(index * 50) % 256, (index * 90 + 30) % 256, (255 - index * 40) % 256]);
    for (let n = 0; n < perClass; n++) files[`${className}/${n}.png`] = png;
  }
  return zipFiles({ ...files, ...options.extra });
}

/** A .zip of the given paths, stored without compression (fast, and sizes are what was given). */
export function zipFiles(files: Record<string, Uint8Array>): Uint8Array {
  // fflate treats '/' in a key as given (no folder entries), so unsafe paths such as '../x' survive as written.
  const zippable: Zippable = {};
  for (const [path, bytes] of Object.entries(files)) zippable[path] = [bytes, { level: 0 }];
  return zipSync(zippable);
}
