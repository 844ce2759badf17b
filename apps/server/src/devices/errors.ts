import { defineError } from '@modelfleet/errors';

export const EnrollmentTokenNotFound = defineError(
  'MF_ERR_ENROLLMENT_TOKEN_NOT_FOUND',
  404,
  'enrolment token %s does not exist or is already revoked',
);
export const DeviceNotFound = defineError(
  'MF_ERR_DEVICE_NOT_FOUND',
  404,
  'device %s does not exist or is already revoked',
);
export const EnrollmentLineGone = defineError(
  'MF_ERR_ENROLLMENT_LINE_GONE',
  409,
  'model line %s of this enrolment token no longer exists',
);
export const DeviceIdTaken = defineError(
  'MF_ERR_DEVICE_ID_TAKEN',
  409,
  'device %s is enrolled in another model line; only an enrolment token of its own line can enrol it again',
);
export const BlobNotServed = defineError(
  'MF_ERR_BLOB_NOT_SERVED',
  404,
  'blob %s is not an artifact of this device’s line',
);
export const RangeNotSatisfiable = defineError(
  'MF_ERR_RANGE_NOT_SATISFIABLE',
  416,
  'range %s is not satisfiable for a blob of %s bytes',
);
