import type * as tfTypes from '@tensorflow/tfjs';
import { type LabelledImages, type Preprocessing, imageBatch, imageCount } from './batches.js';
import { EvalInvalidArgument } from './errors.js';

/** Maps a preprocessed batch [n, H, W, 3] to class scores [n, classes]; the caller disposes the result. */
export type BatchClassifier = (batch: tfTypes.Tensor4D) => tfTypes.Tensor;

export interface AccuracyReport {
  /** Top-1 accuracy as a fraction in [0, 1]. */
  accuracy: number;
  correct: number;
  total: number;
  classNames: string[];
  /** confusion[actual][predicted] = image count. */
  confusion: number[][];
  /** Per class: correct / images of that class (NaN when the class has no image). */
  recall: number[];
}

export interface AccuracyOptions {
  preprocessing: Preprocessing;
  /** Images per forward pass (default 64). */
  batchSize?: number;
}

/** Top-1 accuracy and the per-class confusion matrix of a classifier on a labelled dataset. */
export async function measureAccuracy(
  tf: typeof tfTypes,
  classify: BatchClassifier,
  dataset: LabelledImages,
  options: AccuracyOptions,
): Promise<AccuracyReport> {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new EvalInvalidArgument(`batchSize ${batchSize}`);
  const classes = dataset.classNames.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const total = imageCount(dataset);
  let correct = 0;
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const predicted = tf.tidy(() => {
      const scores = classify(imageBatch(tf, dataset, options.preprocessing, start, count));
      return tf.argMax(scores, 1);
    });
    const labels = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < count; i++) {
      const actual = dataset.labels[start + i]!;
      const guess = labels[i]!;
      const row = confusion[actual];
      if (row === undefined || guess >= classes)
        throw new EvalInvalidArgument(`class index ${actual}/${guess} of ${classes}`);
      row[guess] = row[guess]! + 1;
      if (guess === actual) correct++;
    }
  }
  const recall = confusion.map((row, index) => {
    const count = row.reduce((sum, value) => sum + value, 0);
    return count === 0 ? Number.NaN : row[index]! / count;
  });
  return { accuracy: correct / total, correct, total, classNames: [...dataset.classNames], confusion, recall };
}
