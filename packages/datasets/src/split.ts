import { type Dataset, datasetCount, selectImages } from './dataset.js';
import { DatasetInvalidArgument } from './errors.js';
import { createPrng, shuffleInPlace } from './prng.js';

function indicesByClass(dataset: Dataset): number[][] {
  const byClass = dataset.classNames.map((): number[] => []);
  dataset.labels.forEach((label, index) => byClass[label]!.push(index));
  return byClass;
}

/**
 * Stratified split: each class is shuffled (seeded) and `round(n_c * trainFraction)` of its images
 * go to train, the rest to test — so both sides keep the class balance (the study splits 80/20).
 * Each side keeps the images in their original order.
 */
export function splitDataset(dataset: Dataset, trainFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new DatasetInvalidArgument(`train fraction ${trainFraction}`);
  const prng = createPrng(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const indices of indicesByClass(dataset)) {
    shuffleInPlace(indices, prng);
    const cut = Math.round(indices.length * trainFraction);
    train.push(...indices.slice(0, cut));
    test.push(...indices.slice(cut));
  }
  const byIndex = (a: number, b: number): number => a - b;
  return { train: selectImages(dataset, train.sort(byIndex)), test: selectImages(dataset, test.sort(byIndex)) };
}

/**
 * A stratified random sample of `count` images (seeded), e.g. the calibration subset drawn from
 * the training set. Classes get `count` split as evenly as their sizes allow.
 */
export function sampleStratified(dataset: Dataset, count: number, seed: number): Dataset {
  const total = datasetCount(dataset);
  if (!Number.isInteger(count) || count < 1 || count > total) {
    throw new DatasetInvalidArgument(`sample of ${count} from ${total} images`);
  }
  const prng = createPrng(seed);
  const pools = indicesByClass(dataset).map((indices) => shuffleInPlace(indices, prng));
  // Round-robin over classes keeps the sample balanced even when count is not a multiple.
  const picked: number[] = [];
  for (let round = 0; picked.length < count; round++) {
    for (const pool of pools) {
      const index = pool[round];
      if (index !== undefined && picked.length < count) picked.push(index);
    }
  }
  return selectImages(
    dataset,
    picked.sort((a, b) => a - b),
  );
}
