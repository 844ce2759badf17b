import type { LayersModel, SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import {
  type Dataset,
  datasetCount,
  type Preprocessing,
  type Prng,
  shuffleInPlace,
  toFloatBatch,
} from '@modelfleet/datasets';

export interface PartialTrainingOptions {
  /** The first layer that is trained; every layer before it is frozen (runs in inference mode only). */
  firstTrainedLayer: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  preprocessing: Preprocessing;
  prng: Prng;
}

/** The output of the layer before `layerName`, for every image of `dataset`, computed in inference mode. */
async function activationsBefore(
  model: LayersModel,
  layerName: string,
  dataset: Dataset,
  preprocessing: Preprocessing,
): Promise<{ values: Float32Array; shape: number[] }> {
  const index = model.layers.findIndex((layer) => layer.name === layerName);
  if (index < 1) throw new Error(`no layer ${layerName} after the input`);
  const cut = model.layers[index - 1]!.output as SymbolicTensor;
  const frozen = tf.model({ inputs: model.inputs, outputs: cut });
  const total = datasetCount(dataset);
  const shape = cut.shape.slice(1) as number[];
  const width = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(total * width);
  for (let start = 0; start < total; start += 64) {
    const count = Math.min(64, total - start);
    const out = tf.tidy(() =>
      frozen.predict(
        tf.tensor4d(toFloatBatch(dataset, { ...preprocessing, start, count }), [
          count,
          dataset.height,
          dataset.width,
          3,
        ]),
      ),
    ) as Tensor;
    values.set((await out.data()) as Float32Array, start * width);
    out.dispose();
  }
  return { values, shape };
}

/**
 * Partial fine-tune of a chain-shaped model (MobileNet-v1 is one): the layers from
 * `firstTrainedLayer` to the output are trained (batch norm there in training mode, its moving
 * statistics updated) on activations the frozen layers before it compute in inference mode, so
 * every tensor below the cut stays bit-identical — `trainable = false` would not guarantee that in
 * tfjs, whose batch norm updates moving statistics in training mode regardless. Trains `model`'s
 * own layer objects in place (through a second graph over the same layers) and returns the names
 * of the layers that were trained.
 */
export async function fineTuneTop(
  model: LayersModel,
  dataset: Dataset,
  options: PartialTrainingOptions,
): Promise<string[]> {
  const { values, shape } = await activationsBefore(model, options.firstTrainedLayer, dataset, options.preprocessing);
  const index = model.layers.findIndex((layer) => layer.name === options.firstTrainedLayer);
  const top = model.layers.slice(index);
  const input = tf.input({ shape });
  let x: SymbolicTensor = input;
  for (const layer of top) x = layer.apply(x) as SymbolicTensor;
  const sub = tf.model({ inputs: input, outputs: x });
  sub.compile({ optimizer: tf.train.adam(options.learningRate), loss: 'categoricalCrossentropy' });
  const total = datasetCount(dataset);
  const width = values.length / total;
  const classes = dataset.classNames.length;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffleInPlace([...Array(total).keys()], options.prng);
    for (let start = 0; start + options.batchSize <= total; start += options.batchSize) {
      const rows = order.slice(start, start + options.batchSize);
      const xs = new Float32Array(rows.length * width);
      const ys = new Float32Array(rows.length * classes);
      rows.forEach((row, i) => {
        xs.set(values.subarray(row * width, (row + 1) * width), i * width);
        ys[i * classes + dataset.labels[row]!] = 1;
      });
      const xt = tf.tensor(xs, [rows.length, ...shape]);
      const yt = tf.tensor2d(ys, [rows.length, classes]);
      await sub.trainOnBatch(xt, yt);
      xt.dispose();
      yt.dispose();
    }
  }
  return top.map((layer) => layer.name);
}
