import { defineError } from '@modelfleet/errors';

/** The delta was made for another old bundle than the one it is applied to. */
export const DeltaBaseMismatch = defineError(
  'MF_ERR_DELTA_BASE_MISMATCH',
  409,
  'delta applies to bundle %s, the installed bundle is %s',
);
/** The delta is truncated, corrupted, of an unknown version or declares sizes beyond the bounds. */
export const DeltaCorrupt = defineError('MF_ERR_DELTA_CORRUPT', 422, 'delta is corrupt: %s');
/** Applying the delta did not produce the bundle it names. */
export const DeltaResultMismatch = defineError(
  'MF_ERR_DELTA_RESULT_MISMATCH',
  422,
  'delta produced bundle %s, expected %s',
);
/** encodeDelta was given a bundle it cannot describe (not in the canonical bundle layout). */
export const DeltaInputUnsupported = defineError(
  'MF_ERR_DELTA_INPUT_UNSUPPORTED',
  422,
  'cannot encode a delta for this bundle: %s',
);
