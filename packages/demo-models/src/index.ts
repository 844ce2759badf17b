/**
 * @modelfleet/demo-models — the trained demo models (committed fixtures), how to regenerate the
 * exact data they were trained and measured on, and the training machinery: a MobileNet-v1
 * builder and the gradient kernels that let tfjs-backend-wasm train it.
 *
 * Seams agreed for issue 3 (unchanged):
 *   demoModelPath(name): string                        path of fixtures/<name>/model.json
 *   loadDemoModelFiles(name): Map<string, Uint8Array>  'model.json' + its weight shard(s), for readArtifact
 *   demoDatasetSpec: DemoDatasetSpec                   createDemoDatasets(spec) regenerates train/test/calibration
 * Additions: demoModelDir, readDemoManifest (fixtures/manifest.json: accuracy, sizes, training record),
 * shiftedDatasetSpec (the distribution the successors were retrained on).
 */
export {
  DEMO_MODEL_NAMES,
  type DemoModelName,
  type TrainableModelName,
  type DemoManifest,
  type DemoModelRecord,
  demoModelPath,
  demoModelDir,
  fixturesDir,
  loadDemoModelFiles,
  loadModelFolder,
  readDemoManifest,
} from './fixtures.js';
export {
  type DemoDatasetSpec,
  type DemoDatasets,
  demoDatasetSpec,
  pretrainDatasetSpec,
  shiftedDatasetSpec,
  createDemoDatasets,
  type ValidationSplitSpec,
  demoValidationSplit,
  splitValidation,
} from './dataset-spec.js';
export { buildMobileNetV1, type MobileNetV1Options, FEATURE_LAYER, HEAD_LAYER } from './mobilenet.js';
export { createTrainingRuntime, type Tf } from './runtime.js';
export { registerTrainingKernels, TRAINING_KERNEL_NAMES } from './kernels/register.js';
export { serializeModel, deserializeModel, type SerializedModel, WEIGHTS_FILE } from './serialize.js';
export { measureAccuracy } from './training/evaluate.js';
export { trainEpochs, cosineSchedule, type TrainOptions, type EpochReport } from './training/train-loop.js';
export { retrainHead, computeFeatures, type HeadTrainingOptions } from './training/head.js';
export { augmentDihedral } from './training/augment.js';
export { fineTuneTop, type PartialTrainingOptions } from './training/partial.js';
