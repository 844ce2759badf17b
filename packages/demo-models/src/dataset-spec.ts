import {
  type Dataset,
  generateSynthetic,
  type Preprocessing,
  sampleStratified,
  type SceneConditions,
  splitDataset,
} from '@modelfleet/datasets';

/** How to regenerate, byte for byte, the data a demo model was trained and measured on. */
export interface DemoDatasetSpec {
  synthetic: { seed: number; count: number; size: number; conditions?: Partial<SceneConditions> };
  /** Stratified split, as the study's 80/20. */
  split: { trainFraction: number; seed: number };
  /** The representative set for activation calibration (theta2/theta3), drawn from train. */
  calibration: { count: number; seed: number };
  /** The model line's preprocessing: x = pixel * scale + offset, i.e. pixels to [-1, 1]. */
  preprocessing: Preprocessing;
}

export interface DemoDatasets {
  train: Dataset;
  test: Dataset;
  calibration: Dataset;
}

/**
 * The study's set, the one the demo models are measured on: 1,700 images of 5 classes, split
 * 80/20 (1,360 train, 340 test), as a sorting machine's camera sees them — steady lamps, a
 * cleaned belt (fewer, smaller scraps), little sensor noise.
 */
export const demoDatasetSpec: DemoDatasetSpec = {
  synthetic: {
    seed: 2026,
    count: 1700,
    size: 64,
    conditions: {
      brightness: [0.85, 1.15],
      gradient: 0.35,
      noise: [2, 6],
      clutter: [1, 5],
      clutterSize: [0.02, 0.07],
      belt: [75, 150],
    },
  },
  split: { trainFraction: 0.8, seed: 2026 },
  calibration: { count: 100, seed: 2027 },
  preprocessing: { scale: 1 / 127.5, offset: -1 },
};

/**
 * Harder conditions (the generator's defaults: darker belts, more and larger scraps, stronger
 * lighting gradients, more noise) that the base was trained on first, before its last epochs on
 * demoDatasetSpec's training set. Measured: MobileNet-v1 0.25 plateaued near 86 % on this
 * distribution after 20-30 epochs (dark glass on a dark belt, scraps as large as a can).
 */
export const pretrainDatasetSpec: DemoDatasetSpec = {
  synthetic: { seed: 2020, count: 1700, size: 64 },
  split: { trainFraction: 0.8, seed: 2020 },
  calibration: { count: 100, seed: 2021 },
  preprocessing: { scale: 1 / 127.5, offset: -1 },
};

/**
 * A shifted distribution for the successor models — the same items under another lamp and a
 * noisier camera (darker, stronger gradient, more noise), drawn from another seed — so that a
 * retrained head and a fine-tune really change weights, as a field update would.
 */
export const shiftedDatasetSpec: DemoDatasetSpec = {
  synthetic: {
    seed: 4242,
    count: 1700,
    size: 64,
    conditions: { brightness: [0.5, 0.95], gradient: 0.8, noise: [4, 13], clutter: [3, 9] },
  },
  split: { trainFraction: 0.8, seed: 4242 },
  calibration: { count: 100, seed: 4243 },
  preprocessing: { scale: 1 / 127.5, offset: -1 },
};

/** Regenerates train, test and calibration sets from a spec (≈4 s for 1,700 images at 64 px). */
export function createDemoDatasets(spec: DemoDatasetSpec = demoDatasetSpec): DemoDatasets {
  const all = generateSynthetic(spec.synthetic);
  const { train, test } = splitDataset(all, spec.split.trainFraction, spec.split.seed);
  const calibration = sampleStratified(train, spec.calibration.count, spec.calibration.seed);
  return { train, test, calibration };
}

/**
 * The validation split carved out of a spec's training set (stratified, seeded): the base's
 * checkpoint, early stopping and any learning-rate decision look at it and never at the test
 * set, which is measured once, for the chosen checkpoint. The 80/20 train/test split and the
 * calibration sample (drawn from the whole training set) stay as they are.
 */
export interface ValidationSplitSpec {
  /** Fraction of the training set kept for fitting; the rest is the validation set. */
  fitFraction: number;
  seed: number;
}

/** 1,360 training images -> 1,155 to fit on, 205 to validate on (41 per class). */
export const demoValidationSplit: ValidationSplitSpec = { fitFraction: 0.85, seed: 2028 };

export function splitValidation(
  train: Dataset,
  split: ValidationSplitSpec = demoValidationSplit,
): { fit: Dataset; validation: Dataset } {
  const { train: fit, test: validation } = splitDataset(train, split.fitFraction, split.seed);
  return { fit, validation };
}
