import { defineError } from '@modelfleet/errors';

export const QuantizeInvalidArgument = defineError(
  'MF_ERR_QUANTIZE_INVALID_ARGUMENT',
  400,
  'invalid quantization option: %s',
);
export const QuantizeRangesMissing = defineError(
  'MF_ERR_QUANTIZE_RANGES_MISSING',
  400,
  'variant %s needs calibrated activation ranges (evaluate calibrateActivations)',
);
export const QuantizeUnknownVariant = defineError(
  'MF_ERR_QUANTIZE_UNKNOWN_VARIANT',
  400,
  'unknown candidate variant %s',
);
