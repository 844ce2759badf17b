/**
 * @modelfleet/evaluate — honest measurement of model candidates on the device runtime (TF.js, wasm).
 */
export { createRuntime, type EvalRuntime, type Tf } from './runtime.js';
export { type LabelledImages, type Preprocessing, imageBatch, imageCount, assertDatasetFits } from './batches.js';
export { type AccuracyReport, type AccuracyOptions, type BatchClassifier, measureAccuracy } from './accuracy.js';
export {
  type LatencyClock,
  type LatencyOptions,
  type LatencyReport,
  measureLatencies,
  summariseSamples,
  percentileOfSorted,
} from './latency.js';
export { type SizeReport, type SizeOptions, measureSizes, brotliSize } from './sizes.js';
export { type ActivationRanges, type CalibrationOptions, calibrateModel } from './calibrate.js';
export { calibrateActivations, loadArtifactModel } from './artifact-model.js';
export { artifactFromModel } from './model-artifact.js';
export {
  BASELINE_VARIANT,
  type CandidateEvaluation,
  type CandidateRow,
  type CandidateVariant,
  type EvaluateCandidatesOptions,
  type EvaluationProgress,
  evaluateCandidates,
} from './evaluate-candidates.js';
export {
  type AffineParams,
  type ValueRange,
  SOFTMAX_INT8_PARAMS,
  affineParams,
  fakeQuantize,
  fakeQuantizeValue,
  quantizeValue,
  roundHalfAwayFromZero,
} from './affine-int8.js';
export {
  type IntegerSimulation,
  type IntegerSimulationOptions,
  type QuantizationPoint,
  quantizationPlan,
  simulateIntegerInference,
} from './simulate.js';
export { type LayerGraph, type LayerStep, layerGraph, runLayerByLayer } from './layer-graph.js';
export { type ObjectiveInputs, type ObjectiveWeights, objectiveL } from './objective.js';
export {
  type CandidateVerdict,
  type DecisionRule,
  type ScoredCandidate,
  type SelectionConstraints,
  type SelectionDecision,
  type SelectionOptions,
  selectCandidate,
} from './selection.js';
export * from './errors.js';
