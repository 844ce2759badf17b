import { defineError } from '@modelfleet/errors';

export const RolloutNotFound = defineError('MF_ERR_ROLLOUT_NOT_FOUND', 404, 'rollout %s does not exist');
export const RolloutStateConflict = defineError('MF_ERR_ROLLOUT_STATE', 409, '%s');
export const RolloutActive = defineError(
  'MF_ERR_ROLLOUT_ACTIVE',
  409,
  'channel %s of line %s already has an active rollout (%s); finish, abort or roll it back first',
);
export const RolloutReleaseNotFound = defineError(
  'MF_ERR_ROLLOUT_RELEASE_NOT_FOUND',
  404,
  'release %s does not exist on channel %s of line %s',
);
export const RolloutReleaseNotNewer = defineError(
  'MF_ERR_ROLLOUT_RELEASE_NOT_NEWER',
  409,
  'release %s is not newer than the channel’s release %s: devices would refuse it (release numbers only grow)',
);
export const RolloutNoPreviousRelease = defineError(
  'MF_ERR_ROLLOUT_NO_PREVIOUS_RELEASE',
  409,
  'rollout %s has no previous release on its channel to roll back to',
);
export const PinReleaseNotFound = defineError(
  'MF_ERR_PIN_RELEASE_NOT_FOUND',
  404,
  'release %s does not exist on the channel of device %s',
);
