import { defineError } from '@modelfleet/errors';

export const ReleaseNumberContention = defineError(
  'MF_ERR_RELEASE_NUMBER_CONTENTION',
  503,
  'could not allocate a release number for %s/%s after %s attempts',
);
