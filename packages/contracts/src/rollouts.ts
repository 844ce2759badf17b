import { Type, type Static } from 'typebox';
import { DeviceIdString, Tag } from './devices.js';
import { ChannelName, LineName } from './models.js';

/**
 * Rollouts (issue 7): a release going out to a target (a line's channel + every tag of a tag filter) in
 * waves, with a success threshold that advances the waves, an error threshold that pauses the rollout,
 * an in-progress timeout for silent devices, and pause / resume / abort / approve / rollback actions.
 * Device pins override everything. See docs/rollouts.md.
 */

export const ROLLOUT_STATES = [
  'running',
  'awaiting_approval',
  'paused',
  'completed',
  'aborted',
  'rolled_back',
] as const;
export const RolloutState = Type.Enum(ROLLOUT_STATES);
export type RolloutState = Static<typeof RolloutState>;

export const ROLLOUT_WAVE_STATES = ['pending', 'running', 'succeeded', 'halted'] as const;
export const RolloutWaveState = Type.Enum(ROLLOUT_WAVE_STATES);
export type RolloutWaveState = Static<typeof RolloutWaveState>;

/** A device's progress in a rollout. `failed` covers a `failed` or `rolled-back` report. */
export const ROLLOUT_DEVICE_STATES = ['pending', 'in_progress', 'succeeded', 'failed', 'timed_out'] as const;
export const RolloutDeviceState = Type.Enum(ROLLOUT_DEVICE_STATES);
export type RolloutDeviceState = Static<typeof RolloutDeviceState>;

export const RolloutId = Type.String({ format: 'uuid' });

// ---------------------------------------------------------------------------------------------
// Creating a rollout

/** A wave: a cumulative percentage of the target (e.g. 10, 50, 100), or an explicit canary list. */
export const RolloutWaveSpec = Type.Union([
  Type.Object({ percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) }, { additionalProperties: false }),
  Type.Object(
    { devices: Type.Array(DeviceIdString, { minItems: 1, maxItems: 1000, uniqueItems: true }) },
    { additionalProperties: false },
  ),
]);
export type RolloutWaveSpec = Static<typeof RolloutWaveSpec>;

export const ErrorThreshold = Type.Object(
  {
    /** Pause when this many devices of the waves so far failed, rolled back or timed out. */
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Pause when this share (0-100 %) of the devices of the waves so far failed, rolled back or timed out. */
    percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type ErrorThreshold = Static<typeof ErrorThreshold>;

export const CreateRolloutBody = Type.Object(
  {
    line: LineName,
    channel: Type.Optional(ChannelName),
    /**
     * The release to roll out, by number on the channel. Or give `candidateId` (or `version`, for its
     * winner) to publish it as a release held back for this rollout (the rest of the channel does not see
     * it until the rollout completes).
     */
    release: Type.Optional(Type.Integer({ minimum: 1 })),
    candidateId: Type.Optional(Type.String({ format: 'uuid' })),
    version: Type.Optional(Type.String({ format: 'uuid' })),
    /** Devices must carry every one of these tags to be in the target. */
    tagFilter: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
    waves: Type.Array(RolloutWaveSpec, { minItems: 1, maxItems: 20 }),
    /** Share (0-100 %) of a wave's devices that must succeed before the next wave starts. Default 100. */
    successThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** Default: pause at the first failure ({count: 1}). */
    errorThreshold: Type.Optional(ErrorThreshold),
    /** A device silent this long after it was offered the release counts as timed out. Default 3600. */
    inProgressTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
    /** Advance to the next wave by itself (default), or wait in `awaiting_approval` for `approve`. */
    autoAdvance: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateRolloutBody = Static<typeof CreateRolloutBody>;

// ---------------------------------------------------------------------------------------------
// The rollout view

export const RolloutDeviceCounts = Type.Object({
  pending: Type.Integer(),
  in_progress: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  timed_out: Type.Integer(),
});
export type RolloutDeviceCounts = Static<typeof RolloutDeviceCounts>;

export const RolloutWaveView = Type.Object({
  index: Type.Integer(),
  /** Cumulative share of the target this wave reaches; null for an explicit device list. */
  percent: Type.Union([Type.Number(), Type.Null()]),
  devices: Type.Array(DeviceIdString),
  state: RolloutWaveState,
  /** Devices that joined the rollout in this wave. */
  total: Type.Integer(),
  counts: RolloutDeviceCounts,
  /** succeeded / total (0-1); 0 for an empty wave that has not started. */
  progress: Type.Number(),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type RolloutWaveView = Static<typeof RolloutWaveView>;

export const RolloutView = Type.Object(
  {
    id: RolloutId,
    line: LineName,
    channel: ChannelName,
    release: Type.Integer(),
    releaseId: Type.String(),
    artifactSha256: Type.String(),
    /** The release a rollback published (the previous artifact under a higher number), if any. */
    rollbackRelease: Type.Union([Type.Integer(), Type.Null()]),
    tagFilter: Type.Array(Tag),
    state: RolloutState,
    stateReason: Type.Union([Type.String(), Type.Null()]),
    currentWave: Type.Integer(),
    successThreshold: Type.Number(),
    errorThreshold: ErrorThreshold,
    inProgressTimeoutSeconds: Type.Integer(),
    autoAdvance: Type.Boolean(),
    waves: Type.Array(RolloutWaveView),
    /** Devices currently in the target (channel + tags, not pinned, not revoked). */
    targetDevices: Type.Integer(),
    /** Over every wave so far. */
    totals: Type.Object({ members: Type.Integer(), ...RolloutDeviceCounts.properties }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'Rollout' },
);
export type RolloutView = Static<typeof RolloutView>;

export const RolloutList = Type.Object({ items: Type.Array(RolloutView) });
export type RolloutList = Static<typeof RolloutList>;

export const RolloutListQuery = Type.Object({
  line: Type.Optional(LineName),
  channel: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' })),
  state: Type.Optional(RolloutState),
});
export type RolloutListQuery = Static<typeof RolloutListQuery>;

export const RolloutParams = Type.Object({ id: RolloutId });

/** One device's membership, for `GET /v1/rollouts/:id/devices`. */
export const RolloutMember = Type.Object({
  deviceId: DeviceIdString,
  waveIndex: Type.Integer(),
  state: RolloutDeviceState,
  assignedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type RolloutMember = Static<typeof RolloutMember>;
export const RolloutMemberList = Type.Object({ items: Type.Array(RolloutMember) });
export type RolloutMemberList = Static<typeof RolloutMemberList>;

// ---------------------------------------------------------------------------------------------
// Actions: POST /v1/rollouts/:id/{pause,resume,abort,approve,rollback}, each answering the RolloutView

export const ROLLOUT_ACTIONS = ['pause', 'resume', 'abort', 'approve', 'rollback'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];
export const RolloutActionBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
export type RolloutActionBody = Static<typeof RolloutActionBody>;

// ---------------------------------------------------------------------------------------------
// Pins: PUT /v1/devices/:deviceId/pin {release}, DELETE /v1/devices/:deviceId/pin

export const PinBody = Type.Object(
  { release: Type.Integer({ minimum: 1, description: "a release number of the device's channel" }) },
  { additionalProperties: false },
);
export type PinBody = Static<typeof PinBody>;

export const DevicePin = Type.Object({
  deviceId: DeviceIdString,
  line: Type.Union([LineName, Type.Null()]),
  channel: Type.Union([ChannelName, Type.Null()]),
  /** The release the device is pinned to; null when not pinned. */
  pinnedRelease: Type.Union([Type.Integer(), Type.Null()]),
});
export type DevicePin = Static<typeof DevicePin>;
