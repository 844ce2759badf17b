import type * as tfTypes from '@tensorflow/tfjs';
import { type ModelArtifact, type StockFloatDtype, toTfjsArtifacts } from '@modelfleet/model-format';
import type { ActivationRanges, CalibrationOptions } from './calibrate.js';
import { calibrateModel } from './calibrate.js';
import type { LabelledImages } from './batches.js';
import { EvalModelLoadFailed } from './errors.js';
import { type EvalRuntime, createRuntime } from './runtime.js';

/**
 * Loads an artifact the way a device does: model-format decodes every tensor (our own encodings
 * included) into a stock float artifact, and TF.js builds the LayersModel from memory. What runs is
 * therefore exactly the decoded weights the device would run.
 */
export async function loadArtifactModel(
  runtime: EvalRuntime,
  artifact: ModelArtifact,
  options: { dtype?: StockFloatDtype } = {},
): Promise<tfTypes.LayersModel> {
  const { tf } = runtime;
  const artifacts = toTfjsArtifacts(artifact, { dtype: options.dtype ?? 'float32' });
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tfTypes.io.ModelArtifacts));
  } catch (error) {
    throw new EvalModelLoadFailed(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/**
 * The seam with @modelfleet/quantize: runs the float artifact over the calibration set and
 * records the range of the input and of every layer's output (`ActivationRanges`).
 */
export async function calibrateActivations(
  artifact: ModelArtifact,
  calibration: LabelledImages,
  options: CalibrationOptions,
): Promise<ActivationRanges> {
  const runtime = await createRuntime();
  const model = await loadArtifactModel(runtime, artifact);
  try {
    return await calibrateModel(runtime.tf, model, calibration, options);
  } finally {
    model.dispose();
  }
}
