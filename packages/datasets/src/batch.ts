import { type Dataset, datasetCount, imageBytes } from './dataset.js';
import { DatasetInvalidArgument } from './errors.js';

export interface Preprocessing {
  /** x = pixel * scale + offset; the demo model line uses scale 1/127.5, offset -1 (pixels to [-1, 1]). */
  scale: number;
  offset: number;
}

/**
 * Images `start .. start+count` as one float batch in NHWC order, preprocessed
 * with the model line's scale and offset.
 */
export function toFloatBatch(
  dataset: Dataset,
  options: Preprocessing & { start?: number; count?: number },
): Float32Array {
  const start = options.start ?? 0;
  const total = datasetCount(dataset);
  const count = options.count ?? total - start;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > total) {
    throw new DatasetInvalidArgument(`batch ${start}+${count} of ${total} images`);
  }
  const size = imageBytes(dataset);
  const pixels = dataset.images.subarray(start * size, (start + count) * size);
  const out = new Float32Array(pixels.length);
  const { scale, offset } = options;
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! * scale + offset;
  return out;
}

/** Labels `start .. start+count` as one-hot rows (for training). */
export function toOneHot(dataset: Dataset, options: { start?: number; count?: number } = {}): Float32Array {
  const start = options.start ?? 0;
  const total = datasetCount(dataset);
  const count = options.count ?? total - start;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > total) {
    throw new DatasetInvalidArgument(`labels ${start}+${count} of ${total} images`);
  }
  const classes = dataset.classNames.length;
  const out = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) out[i * classes + dataset.labels[start + i]!] = 1;
  return out;
}
