import { DatasetInvalidArgument } from './errors.js';

/**
 * A labelled image dataset held in memory: RGB pixels, row-major, `images[((n*H + y)*W + x)*3 + c]`,
 * one label byte per image (an index into `classNames`). Preprocessing (x = pixel*scale + offset)
 * is applied by the consumer, see `toFloatBatch`.
 */
export interface Dataset {
  classNames: string[];
  height: number;
  width: number;
  channels: 3;
  images: Uint8Array;
  labels: Uint8Array;
}

/** The largest class count a label byte can hold. */
export const MAX_CLASSES = 256;

export function datasetCount(dataset: Dataset): number {
  return dataset.labels.length;
}

export function imageBytes(dataset: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return dataset.height * dataset.width * dataset.channels;
}

/** Throws MF_ERR_DATASET_INVALID_ARGUMENT when the parts of a dataset do not agree. */
export function assertDatasetShape(dataset: Dataset): void {
  const { height, width, channels, classNames, images, labels } = dataset;
  if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) {
    throw new DatasetInvalidArgument(`image size ${height}x${width}`);
  }
  if (channels !== 3) throw new DatasetInvalidArgument(`channels ${String(channels)} (only RGB is supported)`);
  if (classNames.length < 1 || classNames.length > MAX_CLASSES) {
    throw new DatasetInvalidArgument(`${classNames.length} classes`);
  }
  if (new Set(classNames).size !== classNames.length) throw new DatasetInvalidArgument('duplicate class names');
  if (images.length !== labels.length * imageBytes(dataset)) {
    throw new DatasetInvalidArgument(`${images.length} pixel bytes for ${labels.length} images`);
  }
  for (const label of labels) {
    if (label >= classNames.length) throw new DatasetInvalidArgument(`label ${label} out of range`);
  }
}

/** A new dataset holding the images at `indices` (in that order); pixels are copied. */
export function selectImages(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const size = imageBytes(dataset);
  const count = datasetCount(dataset);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new DatasetInvalidArgument(`image index ${index} of ${count}`);
    }
    images.set(dataset.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = dataset.labels[index]!;
  }
  return { ...dataset, classNames: [...dataset.classNames], images, labels };
}

/** Images per class, indexed by label. */
export function classCounts(dataset: Dataset): number[] {
  const counts = new Array<number>(dataset.classNames.length).fill(0);
  for (const label of dataset.labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
