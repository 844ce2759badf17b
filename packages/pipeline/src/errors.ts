import { defineError } from '@modelfleet/errors';

export const VersionMissing = defineError(
  'MF_ERR_VERSION_MISSING',
  404,
  'version %s does not exist (deleted while queued?)',
);
export const DatasetRequired = defineError('MF_ERR_DATASET_MISSING', 409, 'line %s has no %s dataset; %s');
export const VariantUnknown = defineError('MF_ERR_VARIANT_UNKNOWN', 422, 'variant %s is not in the candidate set');
