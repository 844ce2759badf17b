import { defineError } from '@modelfleet/errors';

/** A precompute was asked for a release that does not exist (deleted with its line, or a wrong id). */
export const ReleaseToPrecomputeMissing = defineError(
  'MF_ERR_PRECOMPUTE_RELEASE_MISSING',
  404,
  'release %s does not exist',
);
