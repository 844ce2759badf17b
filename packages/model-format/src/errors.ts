import { defineError } from '@modelfleet/errors';

/**
 * Every way an artifact can be refused. Uploads are untrusted input: each check maps to one code so
 * the API (422) and the tests can tell the failures apart.
 */
export const ModelJsonInvalid = defineError('MF_ERR_MODEL_JSON_INVALID', 422, 'model.json is invalid: %s');
export const ModelFormatUnsupported = defineError(
  'MF_ERR_MODEL_FORMAT_UNSUPPORTED',
  422,
  'unsupported model format %s (only TF.js LayersModel "layers-model" is accepted)',
);
export const LayerUnsupported = defineError('MF_ERR_LAYER_UNSUPPORTED', 422, 'layer %s has unsupported class %s');
export const ShardPathInvalid = defineError('MF_ERR_SHARD_PATH_INVALID', 422, 'weight shard path %s is not allowed');
export const ShardMissing = defineError('MF_ERR_SHARD_MISSING', 422, 'weight shard %s is missing');
export const ShardSizeMismatch = defineError(
  'MF_ERR_SHARD_SIZE_MISMATCH',
  422,
  'weight group %s: the manifest describes %s bytes but the shards hold %s bytes',
);
export const DtypeUnknown = defineError('MF_ERR_DTYPE_UNKNOWN', 422, 'weight %s has unknown or unsupported dtype %s');
export const WeightsNotFinite = defineError('MF_ERR_WEIGHTS_NOT_FINITE', 422, 'weight %s holds NaN or Infinity');
export const WeightMissing = defineError('MF_ERR_WEIGHT_MISSING', 422, 'layer %s needs weight %s, which is absent');
export const WeightShapeMismatch = defineError('MF_ERR_WEIGHT_SHAPE_MISMATCH', 422, 'weight %s: %s');
export const ArtifactTooLarge = defineError('MF_ERR_ARTIFACT_TOO_LARGE', 413, 'artifact exceeds a size bound: %s');
export const TensorPayloadInvalid = defineError(
  'MF_ERR_TENSOR_PAYLOAD_INVALID',
  422,
  'weight %s: payload is invalid: %s',
);
export const BundleInvalid = defineError('MF_ERR_BUNDLE_INVALID', 422, 'bundle is invalid: %s');
export const Float16OutOfRange = defineError(
  'MF_ERR_FLOAT16_OUT_OF_RANGE',
  422,
  'weight %s holds a value outside the float16 range',
);
