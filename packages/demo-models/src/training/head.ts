import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import {
  type Dataset,
  datasetCount,
  type Preprocessing,
  type Prng,
  shuffleInPlace,
  toFloatBatch,
} from '@modelfleet/datasets';
import { FEATURE_LAYER, HEAD_LAYER } from '../mobilenet.js';

export interface HeadTrainingOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  dropout: number;
  preprocessing: Preprocessing;
  prng: Prng;
}

/** The backbone's feature vectors for a dataset, computed in inference mode (moving batch-norm statistics). */
export async function computeFeatures(
  model: LayersModel,
  dataset: Dataset,
  preprocessing: Preprocessing,
): Promise<Float32Array> {
  const backbone = tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output });
  const total = datasetCount(dataset);
  const chunks: Float32Array[] = [];
  for (let start = 0; start < total; start += 64) {
    const count = Math.min(64, total - start);
    const features = tf.tidy(() =>
      backbone.predict(
        tf.tensor4d(toFloatBatch(dataset, { ...preprocessing, start, count }), [
          count,
          dataset.height,
          dataset.width,
          3,
        ]),
      ),
    ) as Tensor;
    chunks.push((await features.data()) as Float32Array);
    features.dispose();
  }
  const out = new Float32Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Head-only retrain: the dense classifier is trained on features the frozen backbone computes in
 * inference mode. Training the whole model with the backbone's layers set trainable=false would
 * not freeze it in tfjs — batch norm still updates its moving statistics in training mode (issue
 * 3) — so the backbone never runs in training mode here and every backbone tensor stays
 * bit-identical. Starts from the model's current head; returns the new [kernel, bias].
 */
export async function retrainHead(
  model: LayersModel,
  dataset: Dataset,
  options: HeadTrainingOptions,
): Promise<Tensor[]> {
  const features = await computeFeatures(model, dataset, options.preprocessing);
  const total = datasetCount(dataset);
  const width = features.length / total;
  const classes = dataset.classNames.length;
  const current = model.getLayer(HEAD_LAYER);
  const head = tf.sequential({
    layers: [
      tf.layers.dropout({ inputShape: [width], rate: options.dropout }),
      tf.layers.dense({ units: classes, activation: 'softmax', name: 'head_predictions' }),
    ],
  });
  head.getLayer('head_predictions').setWeights(current.getWeights());
  head.compile({ optimizer: tf.train.adam(options.learningRate), loss: 'categoricalCrossentropy' });
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffleInPlace([...Array(total).keys()], options.prng);
    for (let start = 0; start < total; start += options.batchSize) {
      const rows = order.slice(start, start + options.batchSize);
      const xs = new Float32Array(rows.length * width);
      const ys = new Float32Array(rows.length * classes);
      rows.forEach((row, i) => {
        xs.set(features.subarray(row * width, (row + 1) * width), i * width);
        ys[i * classes + dataset.labels[row]!] = 1;
      });
      const x = tf.tensor2d(xs, [rows.length, width]);
      const y = tf.tensor2d(ys, [rows.length, classes]);
      await head.trainOnBatch(x, y);
      x.dispose();
      y.dispose();
    }
  }
  const weights = head
    .getLayer('head_predictions')
    .getWeights()
    .map((w) => w.clone());
  head.dispose();
  return weights;
}
