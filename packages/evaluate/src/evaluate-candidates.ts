import type * as tfTypes from '@tensorflow/tfjs';
import { type ModelArtifact, encodeBundle, sha256Hex } from '@modelfleet/model-format';
import { type AccuracyReport, type BatchClassifier, measureAccuracy } from './accuracy.js';
import { loadArtifactModel } from './artifact-model.js';
import { type LabelledImages, type Preprocessing, assertDatasetFits, imageBatch } from './batches.js';
import { type ActivationRanges, calibrateModel } from './calibrate.js';
import { EvalInvalidArgument } from './errors.js';
import { type LatencyClock, type LatencyReport, measureLatencies } from './latency.js';
import type { ObjectiveWeights } from './objective.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { type SelectionConstraints, type SelectionDecision, selectCandidate } from './selection.js';
import { measureSizes } from './sizes.js';
import { type QuantizationPoint, simulateIntegerInference } from './simulate.js';

/** One transformation theta of the float model (quantize's candidate set supplies these). */
export interface CandidateVariant {
  /** Stable id, e.g. 'theta2' or 'palette16'. The float model itself is 'theta0'. */
  readonly id: string;
  readonly label: string;
  /** Whether `transform` needs the calibrated activation ranges (theta2, theta3). */
  readonly needsCalibration: boolean;
  transform(floatArtifact: ModelArtifact, context: { readonly ranges?: ActivationRanges }): ModelArtifact;
}

export const BASELINE_VARIANT: CandidateVariant = {
  id: 'theta0',
  label: 'original float32',
  needsCalibration: false,
  transform: (floatArtifact) => floatArtifact,
};

export interface EvaluateCandidatesOptions {
  test: LabelledImages;
  /** When given, accuracy on it is reported too (the study's train column); it does not enter L. */
  train?: LabelledImages;
  calibration: LabelledImages;
  preprocessing: Preprocessing;
  /** The candidates; theta0 (the float artifact as is) is added first when absent. */
  variants: readonly CandidateVariant[];
  /** Timed single-image runs per candidate (default 30). */
  latencyRuns?: number;
  /** Untimed runs per candidate first (default 5). */
  warmupRuns?: number;
  /** Clock T is read from (default 'cpu', see LatencyClock); both clocks are reported. */
  latencyClock?: LatencyClock;
  calibrationMethod?: 'minmax' | 'percentile';
  percentile?: number;
  /** Use at most this many calibration images (default all). */
  calibrationImages?: number;
  constraints?: SelectionConstraints;
  weights?: ObjectiveWeights;
  tieTolerance?: number;
  /** Images per forward pass for accuracy and calibration (default 64). */
  batchSize?: number;
  brotliQuality?: number;
  /** Fuse conv+batch-norm+activation in the integer simulation like the TFLite converter (default true). */
  fuseInSimulation?: boolean;
  onProgress?: (progress: EvaluationProgress) => void;
}

export interface EvaluationProgress {
  stage: 'calibrate' | 'transform' | 'accuracy' | 'latency' | 'select';
  variant?: string;
  /** Steps finished so far, of `total`. */
  completed: number;
  total: number;
}

/** One row of the candidate table. Accuracies are fractions in [0, 1]. */
export interface CandidateRow {
  variant: string;
  readonly label: string;
  /** Encodings of the artifact's tensors, largest share of bytes first, e.g. 'int8-per-channel+float32'. */
  encoding: string;
  accuracy: number;
  trainAccuracy?: number;
  /** True when accuracy comes from the integer-inference simulation (theta2/theta3), not the runtime itself. */
  simulated: boolean;
  latency: LatencyReport;
  fileBytes: number;
  wireBytes: number;
  bundleSha256: string;
  L: number;
  eligible: boolean;
  /** Why it was chosen, or why it is not eligible, or that another candidate scored lower. */
  reason: string;
  confusion: number[][];
  /** For simulated rows: where the simulation rounds. */
  quantizationPlan?: QuantizationPoint[];
}

export interface CandidateEvaluation {
  rows: CandidateRow[];
  decision: SelectionDecision;
  /** The calibrated ranges handed to the candidates that needed them. */
  ranges?: ActivationRanges;
  /** Each candidate's artifact and canonical bundle bytes, by variant id. */
  artifacts: Map<string, { artifact: ModelArtifact; bundle: Uint8Array }>;
  runtime: { backend: string; simd: boolean; threads: boolean };
}

/** Encoding kinds by share of bytes, largest first. */
function encodingSummary(artifact: ModelArtifact): string {
  const bytes = new Map<string, number>();
  for (const tensor of artifact.tensors)
    bytes.set(tensor.encoding.kind, (bytes.get(tensor.encoding.kind) ?? 0) + tensor.bytes.length);
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([kind]) => kind)
    .join('+');
}

function simulationOf(artifact: ModelArtifact): { ranges: ActivationRanges; integerIo: boolean } | undefined {
  const metadata = artifact.modelJson.modelfleet;
  const ranges = metadata?.activationRanges;
  if (ranges === undefined) return undefined;
  return {
    ranges: { ...ranges, layers: { ...ranges.layers } },
    integerIo: metadata?.inputQuantization?.integerInput === true,
  };
}

/**
 * Turns one float model into candidates and measures each honestly on the device runtime:
 * accuracy on the test set (through the device's decoding path; simulated integer inference for
 * artifacts carrying activation quantization), per-image latency (timed round-robin), file and
 * wire size, L against theta0, and the selection. The optimize job runs this in a worker thread.
 */
export async function evaluateCandidates(
  floatArtifact: ModelArtifact,
  options: EvaluateCandidatesOptions,
): Promise<CandidateEvaluation> {
  const runtime: EvalRuntime = await createRuntime();
  const { tf } = runtime;
  const variants = options.variants.some((variant) => variant.id === BASELINE_VARIANT.id)
    ? [...options.variants]
    : [BASELINE_VARIANT, ...options.variants];
  const ids = new Set(variants.map((variant) => variant.id));
  if (ids.size !== variants.length) throw new EvalInvalidArgument('duplicate variant ids');
  const needsRanges = variants.some((variant) => variant.needsCalibration);
  const total = (needsRanges ? 1 : 0) + variants.length * 2 + 2;
  let completed = 0;
  const report = (stage: EvaluationProgress['stage'], variant?: string): void => {
    completed++;
    options.onProgress?.({ stage, ...(variant !== undefined ? { variant } : {}), completed, total });
  };
  const batchSize = options.batchSize ?? 64;

  const floatModel = await loadArtifactModel(runtime, floatArtifact);
  const inputShape = floatModel.inputs[0]!.shape;
  const classCount = floatModel.outputs[0]!.shape.at(-1) ?? 0;
  for (const dataset of [options.test, options.calibration, ...(options.train ? [options.train] : [])]) {
    assertDatasetFits(dataset, inputShape, classCount);
  }

  let ranges: ActivationRanges | undefined;
  if (needsRanges) {
    ranges = await calibrateModel(tf, floatModel, options.calibration, {
      preprocessing: options.preprocessing,
      method: options.calibrationMethod ?? 'minmax',
      ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
      ...(options.calibrationImages !== undefined ? { maxImages: options.calibrationImages } : {}),
      batchSize,
    });
    report('calibrate');
  }
  floatModel.dispose();

  interface Measured {
    variant: CandidateVariant;
    artifact: ModelArtifact;
    bundle: Uint8Array;
    model: tfTypes.LayersModel;
    test: AccuracyReport;
    train?: AccuracyReport;
    simulated: boolean;
    plan?: QuantizationPoint[];
  }
  const measured: Measured[] = [];
  try {
    for (const variant of variants) {
      const artifact = variant.transform(floatArtifact, ranges !== undefined ? { ranges } : {});
      const bundle = encodeBundle(artifact);
      const model = await loadArtifactModel(runtime, artifact);
      report('transform', variant.id);
      const simulation = simulationOf(artifact);
      let classify: BatchClassifier = (batch) => model.predict(batch) as tfTypes.Tensor;
      let plan: QuantizationPoint[] | undefined;
      if (simulation !== undefined) {
        const simulator = simulateIntegerInference(tf, model, {
          ...simulation,
          fuse: options.fuseInSimulation ?? true,
        });
        classify = simulator.classify;
        plan = simulator.plan;
      }
      const accuracyOptions = { preprocessing: options.preprocessing, batchSize };
      const test = await measureAccuracy(tf, classify, options.test, accuracyOptions);
      const train = options.train ? await measureAccuracy(tf, classify, options.train, accuracyOptions) : undefined;
      measured.push({
        variant,
        artifact,
        bundle,
        model,
        test,
        ...(train ? { train } : {}),
        simulated: simulation !== undefined,
        ...(plan ? { plan } : {}),
      });
      report('accuracy', variant.id);
    }

    const image = imageBatch(tf, options.test, options.preprocessing, 0, 1);
    const latencies = await measureLatencies(
      tf,
      measured.map((entry) => entry.model),
      image,
      {
        ...(options.latencyRuns !== undefined ? { runs: options.latencyRuns } : {}),
        ...(options.warmupRuns !== undefined ? { warmupRuns: options.warmupRuns } : {}),
        ...(options.latencyClock !== undefined ? { clock: options.latencyClock } : {}),
      },
    );
    image.dispose();
    report('latency');

    const sizes = measured.map((entry) =>
      measureSizes(entry.bundle, {
        ...(options.brotliQuality !== undefined ? { brotliQuality: options.brotliQuality } : {}),
      }),
    );
    const decision = selectCandidate(
      measured.map((entry, index) => ({
        variant: entry.variant.id,
        fileBytes: sizes[index]!.fileBytes,
        latencyMs: latencies[index]!.medianMs,
        accuracy: entry.test.accuracy,
      })),
      {
        baseline: BASELINE_VARIANT.id,
        ...(options.constraints ? { constraints: options.constraints } : {}),
        ...(options.weights ? { weights: options.weights } : {}),
        ...(options.tieTolerance !== undefined ? { tieTolerance: options.tieTolerance } : {}),
      },
    );
    report('select');

    const rows = measured.map((entry, index): CandidateRow => {
      const verdict = decision.verdicts[index]!;
      const reason =
        entry.variant.id === decision.chosen
          ? `chosen: ${decision.reason}`
          : verdict.eligible
            ? `L ${verdict.L.toFixed(4)} above the chosen ${decision.chosen} (${decision.L.toFixed(4)})`
            : `not eligible: ${verdict.violations.join('; ')}`;
      return {
        variant: entry.variant.id,
        label: entry.variant.label,
        encoding: encodingSummary(entry.artifact),
        accuracy: entry.test.accuracy,
        ...(entry.train ? { trainAccuracy: entry.train.accuracy } : {}),
        simulated: entry.simulated,
        latency: latencies[index]!,
        fileBytes: sizes[index]!.fileBytes,
        wireBytes: sizes[index]!.wireBytes,
        bundleSha256: sha256Hex(entry.bundle),
        L: verdict.L,
        eligible: verdict.eligible,
        reason,
        confusion: entry.test.confusion,
        ...(entry.plan ? { quantizationPlan: entry.plan } : {}),
      };
    });
    return {
      rows,
      decision,
      ...(ranges ? { ranges } : {}),
      artifacts: new Map(
        measured.map((entry) => [entry.variant.id, { artifact: entry.artifact, bundle: entry.bundle }]),
      ),
      runtime: { backend: runtime.backend, simd: runtime.simd, threads: runtime.threads },
    };
  } finally {
    for (const entry of measured) entry.model.dispose();
  }
}
