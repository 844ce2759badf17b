import { Type, type Static } from 'typebox';
import { Sha256 } from './common.js';
import { ChannelName, LineName, Preprocessing, SignedReleaseManifest } from './models.js';

/**
 * The device protocol (first cut). People create enrolment tokens; a device exchanges one for its own
 * token (`mfd_…`, shown once, stored hashed) and then polls, downloads blobs and reports with it.
 */

export const DeviceIdString = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  description: 'what the device calls itself',
});
export const Tag = Type.String({ pattern: '^[a-z0-9][a-z0-9._:=-]{0,63}$' });

// ---------------------------------------------------------------------------------------------
// Enrolment tokens (operators, `admin` scope)

export const EnrollmentScope = Type.Object({
  /** The line and channel devices enrolled with this token follow. */
  line: LineName,
  channel: ChannelName,
  /** Tags every device enrolled with this token gets (on top of its own). */
  tags: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
});
export type EnrollmentScope = Static<typeof EnrollmentScope>;

export const CreateEnrollmentTokenBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  scope: EnrollmentScope,
  /** Seconds until the token stops enrolling devices (devices enrolled before keep working). */
  expiresInSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 24 * 3600 })),
});
export type CreateEnrollmentTokenBody = Static<typeof CreateEnrollmentTokenBody>;

export const EnrollmentTokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scope: EnrollmentScope,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type EnrollmentTokenInfo = Static<typeof EnrollmentTokenInfo>;
export const CreatedEnrollmentToken = Type.Object({
  ...EnrollmentTokenInfo.properties,
  token: Type.String({ description: 'mfe_…, shown once' }),
});
export type CreatedEnrollmentToken = Static<typeof CreatedEnrollmentToken>;
export const EnrollmentTokenList = Type.Object({ items: Type.Array(EnrollmentTokenInfo) });

// ---------------------------------------------------------------------------------------------
// Enrolment (the device, with the enrolment token as bearer)

export const EnrollBody = Type.Object({
  deviceId: DeviceIdString,
  tags: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
  hardwareClass: Type.Optional(Type.String({ maxLength: 64 })),
  runtime: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. tfjs-4.22-wasm-simd' })),
});
export type EnrollBody = Static<typeof EnrollBody>;

export const Enrolled = Type.Object({
  deviceId: DeviceIdString,
  /** `mfd_…`: the device's own credential from now on; shown once. */
  deviceToken: Type.String(),
  line: LineName,
  channel: ChannelName,
  tags: Type.Array(Tag),
});
export type Enrolled = Static<typeof Enrolled>;

// ---------------------------------------------------------------------------------------------
// Poll

export const UpdateQuery = Type.Object({
  /** sha256 of the artifact the device runs now (absent on a device with no model yet). */
  current: Type.Optional(Sha256),
});
export type UpdateQuery = Static<typeof UpdateQuery>;

/**
 * What the server tells a device to run, signed at answer time (a freeze attack — replaying an old
 * answer to keep a device on an old release — ends at `expiresAt`). It carries the release manifest,
 * itself signed at publish time, so the device checks both.
 */
export const UpdateOffer = Type.Object(
  {
    schema: Type.Literal('modelfleet.update/v1'),
    line: LineName,
    channel: ChannelName,
    release: Type.Integer({ minimum: 1 }),
    target: Type.Object({
      sha256: Sha256,
      size: Type.Integer({ minimum: 1 }),
      encoding: Type.String(),
      /** Path of the blob on this server, e.g. /v1/blobs/<sha256>. */
      url: Type.String(),
    }),
    /** A delta from the device's current artifact, when one exists and is clearly smaller (later). */
    delta: Type.Union([
      Type.Null(),
      Type.Object({
        from: Sha256,
        sha256: Sha256,
        size: Type.Integer({ minimum: 1 }),
        format: Type.String(),
        url: Type.String(),
      }),
    ]),
    preprocessing: Preprocessing,
    /** Server-suggested seconds until the next poll; the agent adds jitter. */
    pollAfterSeconds: Type.Integer({ minimum: 1 }),
    issuedAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { title: 'UpdateOffer' },
);
export type UpdateOffer = Static<typeof UpdateOffer>;

export const SignedUpdateOffer = Type.Object(
  {
    signed: UpdateOffer,
    signatures: Type.Array(Type.Object({ keyId: Type.String(), signature: Type.String() }), { minItems: 1 }),
  },
  { title: 'SignedUpdateOffer' },
);
export type SignedUpdateOffer = Static<typeof SignedUpdateOffer>;

/** The 200 answer of a poll: the signed offer plus the release manifest it points at. */
export const UpdateAnswer = Type.Object(
  {
    offer: SignedUpdateOffer,
    releaseManifest: SignedReleaseManifest,
  },
  { title: 'UpdateAnswer' },
);
export type UpdateAnswer = Static<typeof UpdateAnswer>;

/** Document kinds for verifyEnvelope: what each signature was made for. */
export const SIGNED_KINDS = { releaseManifest: 'release-manifest', updateOffer: 'update-offer' } as const;

// ---------------------------------------------------------------------------------------------
// Reports

export const DEVICE_STATES = ['downloading', 'downloaded', 'installed', 'failed', 'rolled-back'] as const;
export const DeviceState = Type.Enum(DEVICE_STATES);
export type DeviceState = Static<typeof DeviceState>;

export const DeviceReportBody = Type.Object({
  /** A retried report carries the same key and is counted once. */
  idempotencyKey: Type.String({ minLength: 8, maxLength: 128 }),
  state: DeviceState,
  release: Type.Optional(Type.Integer({ minimum: 1 })),
  artifactSha256: Type.Optional(Sha256),
  error: Type.Optional(Type.String({ maxLength: 2000 })),
  download: Type.Optional(
    Type.Object({
      kind: Type.Enum(['full', 'delta']),
      bytes: Type.Integer({ minimum: 0 }),
    }),
  ),
  smokeLatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
  occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
});
export type DeviceReportBody = Static<typeof DeviceReportBody>;

export const ReportAccepted = Type.Object({
  accepted: Type.Boolean({ description: 'false when this idempotency key was seen before' }),
});

// ---------------------------------------------------------------------------------------------
// The operators' view of devices

export const DeviceInfo = Type.Object(
  {
    deviceId: DeviceIdString,
    line: Type.Union([LineName, Type.Null()]),
    channel: Type.Union([ChannelName, Type.Null()]),
    tags: Type.Array(Tag),
    hardwareClass: Type.Union([Type.String(), Type.Null()]),
    runtime: Type.Union([Type.String(), Type.Null()]),
    release: Type.Union([Type.Integer(), Type.Null()]),
    pinnedRelease: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The release number the device is pinned to (it gets that release whatever rollouts do), or null',
    }),
    artifactSha256: Type.Union([Sha256, Type.Null()]),
    state: Type.Union([DeviceState, Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    smokeLatencyMs: Type.Union([Type.Number(), Type.Null()]),
    lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    enrolledAt: Type.String({ format: 'date-time' }),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'DeviceInfo' },
);
export type DeviceInfo = Static<typeof DeviceInfo>;
export const DeviceList = Type.Object({ items: Type.Array(DeviceInfo) });
export type DeviceList = Static<typeof DeviceList>;
