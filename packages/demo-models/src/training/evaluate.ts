import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { type Dataset, datasetCount, type Preprocessing, toFloatBatch } from '@modelfleet/datasets';

/** Top-1 accuracy (0..1) of `model` in inference mode on `dataset`. */
export async function measureAccuracy(
  model: LayersModel,
  dataset: Dataset,
  preprocessing: Preprocessing,
  batchSize = 64,
): Promise<number> {
  const total = datasetCount(dataset);
  const { height, width } = dataset;
  let correct = 0;
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const predicted = tf.tidy(() => {
      const input = tf.tensor4d(toFloatBatch(dataset, { ...preprocessing, start, count }), [count, height, width, 3]);
      return tf.argMax(model.predict(input) as Tensor, -1);
    });
    const labels = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < count; i++) if (labels[i] === dataset.labels[start + i]) correct++;
  }
  return correct / total;
}
