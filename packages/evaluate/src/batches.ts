import type * as tfTypes from '@tensorflow/tfjs';
import { EvalDatasetMismatch, EvalInvalidArgument } from './errors.js';

/**
 * The part of `@modelfleet/datasets`' `Dataset` evaluation reads (structurally the same type, so
 * a Dataset is accepted as is): RGB pixels row-major `images[((n*H + y)*W + x)*3 + c]`, one label byte each.
 */
export interface LabelledImages {
  classNames: string[];
  height: number;
  width: number;
  channels: 3;
  images: Uint8Array;
  labels: Uint8Array;
}

/** The model line's input preprocessing: x = pixel * scale + offset (e.g. 1/127.5 and -1 for MobileNet). */
export interface Preprocessing {
  scale: number;
  offset: number;
}

export function imageCount(dataset: LabelledImages): number {
  return dataset.labels.length;
}

/** Checks that the images fit the model's input [null, H, W, 3] and the labels its class count. */
export function assertDatasetFits(dataset: LabelledImages, inputShape: readonly (number | null)[], classCount: number): void {
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
  const size = dataset.height * dataset.width * 3;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > imageCount(dataset)) {
    throw new EvalInvalidArgument(`batch [${start}, ${start + count}) of ${imageCount(dataset)} images`);
  }
  const pixels = dataset.images.subarray(start * size, (start + count) * size);
  const values = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) values[i] = pixels[i]! * preprocessing.scale + preprocessing.offset;
  return tf.tensor4d(values, [count, dataset.height, dataset.width, 3]);
}
