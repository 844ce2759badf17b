/**
 * @modelfleet/evaluate — honest measurement of model candidates on the device runtime (TF.js 4.22,
 * wasm backend with SIMD; no threads under Node), the study's objective L and the selection.
 *
 * Public face (the seams of issue 3):
 *   createRuntime(): Promise<EvalRuntime>                                  idempotent, no import-time side effects
 *   loadArtifactModel(runtime, artifact, { dtype? }): Promise<LayersModel>  model-format decode -> toTfjsArtifacts -> loadLayersModel(fromMemory)
 *   calibrateActivations(artifact, calibration, { preprocessing, method?, percentile?, batchSize?, maxImages? }): Promise<ActivationRanges>
 *     (deviation from the agreed `{ method, percentile }`: the model line's preprocessing is needed to
 *     turn pixels into inputs, so it is a required option)
 *   evaluateCandidates(floatArtifact, { test, train?, calibration, preprocessing, variants, latencyRuns?, … }): Promise<CandidateEvaluation>
 *     variants: quantize's `candidateSet` entries (structurally `CandidateVariant`); theta0 is added first.
 *     -> rows (variant, encoding, accuracy, trainAccuracy, simulated, latency median/p90 on CPU and wall
 *        clocks, fileBytes, wireBytes, L, eligible, reason, confusion) + decision + artifacts + ranges.
 *   objectiveL(candidate, baseline, weights?) = S/S0 + T/T0 - A/A0 - 1;  selectCandidate(scored, options?)
 *   measureAccuracy / measureLatencies / measureSizes / calibrateModel / simulateIntegerInference: the parts.
 * Accuracy is a fraction in [0, 1]; the default constraint "drop at most 1 point" is 0.01.
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
