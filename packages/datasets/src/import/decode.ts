import sharp from 'sharp';
import { type Dataset, MAX_CLASSES } from '../dataset.js';
import {
  DatasetEmpty,
  DatasetImageUnreadable,
  DatasetInvalidArgument,
  DatasetLayoutInvalid,
  DatasetUnknownLabel,
} from '../errors.js';
import type { ImageEntry, ImportOptions } from './options.js';

/** Largest decoded image accepted (pixels), against decompression bombs inside a PNG/JPEG. */
const MAX_INPUT_PIXELS = 64 * 1024 * 1024;

async function decodeImage(entry: ImageEntry, options: ImportOptions): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(entry.bytes, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate() // honour EXIF orientation, as a photo viewer would
      .removeAlpha()
      .toColourspace('srgb')
      .resize(options.size, options.size, { fit: options.fit ?? 'cover' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== options.size * options.size * 3) {
      throw new Error(`decoded to ${info.channels} channels, ${data.length} bytes`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (cause) {
    throw new DatasetImageUnreadable(entry.path, { cause });
  }
}

/**
 * Turns `<class>/<image>` entries (any leading folders allowed, e.g. one top folder in an
 * archive) into a dataset: the class is the image's parent folder. Images are ordered by label,
 * then path, so the same input gives the same bytes.
 */
export async function datasetFromEntries(entries: ImageEntry[], options: ImportOptions): Promise<Dataset> {
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > 4096) {
    throw new DatasetInvalidArgument(`size ${options.size}`);
  }
  if (entries.length === 0) throw new DatasetEmpty('no PNG or JPEG files');
  const labelled = entries.map((entry) => {
    const segments = entry.path.split('/');
    const className = segments[segments.length - 2];
    if (className === undefined) throw new DatasetLayoutInvalid(entry.path);
    return { entry, className };
  });
  const found = [...new Set(labelled.map((item) => item.className))].sort();
  const classNames = options.classNames ? [...options.classNames] : found;
  if (classNames.length > MAX_CLASSES) throw new DatasetInvalidArgument(`${classNames.length} classes`);
  for (const name of found) {
    if (!classNames.includes(name)) throw new DatasetUnknownLabel(name, classNames.join(', '));
  }
  const ordered = labelled
    .map((item) => ({ ...item, label: classNames.indexOf(item.className) }))
    .sort((a, b) => a.label - b.label || (a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0));
  const imageSize = options.size * options.size * 3;
  const images = new Uint8Array(ordered.length * imageSize);
  const labels = new Uint8Array(ordered.length);
  for (const [i, item] of ordered.entries()) {
    images.set(await decodeImage(item.entry, options), i * imageSize);
    labels[i] = item.label;
  }
  return { classNames, height: options.size, width: options.size, channels: 3, images, labels };
}
