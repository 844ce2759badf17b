import { defineError } from '@modelfleet/errors';

/** The TF.js wasm backend could not be initialised (missing .wasm files, unsupported platform). */
export const EvalRuntimeUnavailable = defineError(
  'MF_ERR_EVAL_RUNTIME_UNAVAILABLE',
  500,
  'TF.js wasm runtime unavailable: %s',
);

/** An artifact decoded but TF.js refused to build a model from it. */
export const EvalModelLoadFailed = defineError('MF_ERR_EVAL_MODEL_LOAD_FAILED', 422, 'model could not be loaded: %s');

/** The dataset does not fit the model (image size, class count) or is empty. */
export const EvalDatasetMismatch = defineError(
  'MF_ERR_EVAL_DATASET_MISMATCH',
  422,
  'dataset does not fit the model: %s',
);

/** A caller passed an option outside its domain (negative run count, percentile out of range…). */
export const EvalInvalidArgument = defineError('MF_ERR_EVAL_INVALID_ARGUMENT', 400, 'invalid argument: %s');

/** Integer simulation was asked for a layer that has no calibrated range. */
export const EvalMissingRange = defineError(
  'MF_ERR_EVAL_MISSING_RANGE',
  422,
  'no calibrated activation range for layer %s',
);

/** Selection needs the original (theta0) among the candidates to compute the ratios of L. */
export const EvalNoBaseline = defineError(
  'MF_ERR_EVAL_NO_BASELINE',
  422,
  'no baseline candidate %s among the candidates',
);
