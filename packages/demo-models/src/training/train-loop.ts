import type { LayersModel, Optimizer } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import {
  type Dataset,
  datasetCount,
  type Preprocessing,
  type Prng,
  selectImages,
  shuffleInPlace,
  toFloatBatch,
  toOneHot,
} from '@modelfleet/datasets';
import { augmentDihedral } from './augment.js';

export interface EpochReport {
  epoch: number;
  epochs: number;
  learningRate: number;
  loss: number;
  trainAccuracy: number;
  seconds: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Learning rate of epoch e (0-based). */
  learningRate: (epoch: number) => number;
  preprocessing: Preprocessing;
  /** Shuffles and augmentation. */
  prng: Prng;
  augment: boolean;
  onEpoch?: (report: EpochReport) => void | Promise<void>;
}

/** Cosine decay from `start` to `end` over `epochs` epochs. */
export function cosineSchedule(start: number, end: number, epochs: number): (epoch: number) => number {
  return (epoch) => end + 0.5 * (start - end) * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs - 1)));
}

/**
 * Adam's learning rate is a plain field that applyGradients reads at every step
 * (tfjs-core optimizers/adam_optimizer), so a schedule can set it between epochs.
 */
function setLearningRate(optimizer: Optimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/**
 * Mini-batch training with model.trainOnBatch (training mode: batch norm uses batch statistics
 * and updates its moving averages, dropout is on). The model must be compiled with an optimizer
 * and categorical cross-entropy with an accuracy metric.
 */
export async function trainEpochs(model: LayersModel, dataset: Dataset, options: TrainOptions): Promise<EpochReport[]> {
  const total = datasetCount(dataset);
  const { height, width } = dataset;
  const classes = dataset.classNames.length;
  const reports: EpochReport[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const started = performance.now();
    const learningRate = options.learningRate(epoch);
    setLearningRate(model.optimizer, learningRate);
    const order = shuffleInPlace([...Array(total).keys()], options.prng);
    const shuffled = selectImages(dataset, order);
    let lossSum = 0;
    let accuracySum = 0;
    let batches = 0;
    for (let start = 0; start + options.batchSize <= total; start += options.batchSize) {
      const count = options.batchSize;
      const pixels = toFloatBatch(shuffled, { ...options.preprocessing, start, count });
      if (options.augment) augmentDihedral(pixels, count, height, options.prng);
      const xs = tf.tensor4d(pixels, [count, height, width, 3]);
      const ys = tf.tensor2d(toOneHot(shuffled, { start, count }), [count, classes]);
      const result = (await model.trainOnBatch(xs, ys)) as number[];
      xs.dispose();
      ys.dispose();
      lossSum += result[0] ?? NaN;
      accuracySum += result[1] ?? NaN;
      batches++;
    }
    const report: EpochReport = {
      epoch: epoch + 1,
      epochs: options.epochs,
      learningRate,
      loss: lossSum / batches,
      trainAccuracy: accuracySum / batches,
      seconds: (performance.now() - started) / 1000,
    };
    reports.push(report);
    await options.onEpoch?.(report);
  }
  return reports;
}
