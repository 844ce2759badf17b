/**
 * @modelfleet/datasets — labelled image sets for evaluating and training classifiers:
 * the in-memory Dataset, its file format, the study's synthetic task, splits, import from image
 * folders and archives, and float batches with the model line's preprocessing.
 */
export { type Dataset, datasetCount, selectImages, classCounts, assertDatasetShape, MAX_CLASSES } from './dataset.js';
export { encodeDataset, decodeDataset, DATASET_MAGIC, DATASET_FORMAT_VERSION } from './format.js';
export { generateSynthetic, type SyntheticOptions } from './synthetic/generate.js';
export { SYNTHETIC_CLASS_NAMES, type SyntheticClassName } from './synthetic/objects.js';
export { DEFAULT_SCENE_CONDITIONS, type SceneConditions } from './synthetic/scene.js';
export { splitDataset, sampleStratified } from './split.js';
export { toFloatBatch, toOneHot, type Preprocessing } from './batch.js';
export { createPrng, mixSeed, shuffleInPlace, type Prng } from './prng.js';
export * from './errors.js';
export { importImageFolder } from './import/folder.js';
export { importArchive } from './import/archive.js';
export { type ImportOptions, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EXPANDED_BYTES } from './import/options.js';
