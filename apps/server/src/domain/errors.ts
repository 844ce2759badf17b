import { defineError } from '@modelfleet/errors';

export const LineNotFound = defineError('MF_ERR_LINE_NOT_FOUND', 404, 'model line %s does not exist');
export const LineExists = defineError('MF_ERR_LINE_EXISTS', 409, 'model line %s already exists');
export const VersionNotFound = defineError('MF_ERR_VERSION_NOT_FOUND', 404, 'version %s of line %s does not exist');
export const DatasetNotFound = defineError('MF_ERR_DATASET_NOT_FOUND', 404, 'dataset %s of line %s does not exist');
export const CandidateNotFound = defineError(
  'MF_ERR_CANDIDATE_NOT_FOUND',
  404,
  'candidate %s does not exist in line %s',
);
export const VersionNotReady = defineError(
  'MF_ERR_VERSION_NOT_READY',
  409,
  'version %s has no selected winner (status %s)',
);
export const ApiKeyNotFound = defineError('MF_ERR_API_KEY_NOT_FOUND', 404, 'API key %s does not exist');
export const UploadInvalid = defineError('MF_ERR_UPLOAD_INVALID', 400, '%s');
export const UploadTooLarge = defineError('MF_ERR_UPLOAD_TOO_LARGE', 413, 'upload exceeds %s');
export const DatasetClassesMismatch = defineError(
  'MF_ERR_DATASET_CLASSES_MISMATCH',
  422,
  'dataset classes do not match the line: %s',
);
export const DatasetMissing = defineError('MF_ERR_DATASET_MISSING', 409, 'line %s has no %s dataset');
