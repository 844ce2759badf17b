import type * as tfTypes from '@tensorflow/tfjs';
import { type Dataset, type Preprocessing, toFloatBatch } from '@modelfleet/datasets';
import { EvalDatasetMismatch, EvalInvalidArgument } from './errors.js';

/** A labelled image set (`@modelfleet/datasets`' Dataset) and the model line's preprocessing. */
export type LabelledImages = Dataset;
export type { Preprocessing };

export function imageCount(dataset: LabelledImages): number {
  return dataset.labels.length;
}

/** Checks that the images fit the model's input [null, H, W, 3] and the labels its class count. */
export function assertDatasetFits(
  dataset: LabelledImages,
  inputShape: readonly (number | null)[],
  classCount: number,
): void {
  const [, height, width, channels] = inputShape;
  if (imageCount(dataset) === 0) throw new EvalDatasetMismatch('no images');
  if (dataset.images.length !== imageCount(dataset) * dataset.height * dataset.width * 3) {
    throw new EvalDatasetMismatch(`${dataset.images.length} pixel bytes for ${imageCount(dataset)} images`);
  }
  if (height !== dataset.height || width !== dataset.width || channels !== 3) {
    throw new EvalDatasetMismatch(
      `images are ${dataset.height}x${dataset.width}x3, model input is ${String(height)}x${String(width)}x${String(channels)}`,
    );
  }
  if (dataset.classNames.length !== classCount) {
    throw new EvalDatasetMismatch(`${dataset.classNames.length} classes, model has ${classCount} outputs`);
  }
}

/** Images [start, start+count) as a preprocessed float batch tensor [count, H, W, 3]. */
export function imageBatch(
  tf: typeof tfTypes,
  dataset: LabelledImages,
  preprocessing: Preprocessing,
  start: number,
  count: number,
): tfTypes.Tensor4D {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(count) ||
    start < 0 ||
    count < 1 ||
    start + count > imageCount(dataset)
  ) {
    throw new EvalInvalidArgument(`batch [${start}, ${start + count}) of ${imageCount(dataset)} images`);
  }
  const values = toFloatBatch(dataset, { ...preprocessing, start, count });
  return tf.tensor4d(values, [count, dataset.height, dataset.width, 3]);
}
