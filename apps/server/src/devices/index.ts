/** The device side of the server: fleet tokens, the caches that keep polls cheap, reports and the fleet view. */
export { generateFleetToken, hashFleetToken, isWellFormedFleetToken, type FleetTokenKind } from './tokens.js';
export type { DevicePrincipal } from './principal.js';
export {
  createDeviceServices,
  DEFAULT_DEVICE_SETTINGS,
  type DeviceServices,
  type DeviceSettings,
} from './device-services.js';
export { createDeviceAuth, type DeviceAuth, type DeviceAuthOptions } from './device-auth.js';
export {
  createPollAnswers,
  etagFor,
  NO_DELTAS,
  type DeltaRef,
  type DeltaSource,
  type PollAnswer,
  type PollAnswers,
  type PollAnswerOptions,
  type PollCounts,
} from './poll-answers.js';
export {
  createLatestReleaseTargets,
  toTargetRelease,
  TARGET_RELEASE_SELECT,
  type ReleaseTargets,
  type TargetRelease,
} from './targets.js';
export { createLastSeen, type LastSeen, type LastSeenOptions } from './last-seen.js';
export { createBytesServed, type BytesServed, type ServedBlobKind } from './bytes-served.js';
export { createBlobAccess, type BlobAccess } from './blob-access.js';
export { parseByteRange, ifNoneMatchMatches } from './byte-range.js';
export { createEnrollmentToken, enrollDevice, enrollmentTokenOut, type EnrollResult } from './enrollment.js';
export { recordReport, stateFromDb, stateToDb } from './reports.js';
export { listDevices, type DeviceFilter } from './device-list.js';
export * from './errors.js';
