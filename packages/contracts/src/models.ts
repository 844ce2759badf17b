import { Type, type Static } from 'typebox';
import { Sha256 } from './common.js';

/** A model line's name: what URLs, the CLI and devices call it. */
export const LineName = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
  description: 'lower-case letters, digits and dashes',
});
export const ChannelName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', default: 'stable' });

/** How a device turns a camera frame into the model's input: resize to inputSize, then x * scale + offset. */
export const Preprocessing = Type.Object({
  inputSize: Type.Tuple([Type.Integer({ minimum: 8, maximum: 1024 }), Type.Integer({ minimum: 8, maximum: 1024 })], {
    description: '[height, width] in pixels',
  }),
  scale: Type.Number({ default: 1 / 127.5 }),
  offset: Type.Number({ default: -1 }),
  classNames: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    minItems: 2,
    maxItems: 1000,
    uniqueItems: true,
  }),
});
export type Preprocessing = Static<typeof Preprocessing>;

/**
 * The candidate set (ids of the quantize package's registry). The float32 original (`theta0`) is always
 * measured too: it is the baseline of L and a candidate itself (L = 0).
 */
export const VARIANTS = [
  'theta1',
  'theta2',
  'theta3',
  'theta4',
  'int8-per-channel',
  'palette16',
  'palette256',
  'prune20-rans',
] as const;
/**
 * Delta-friendly twins of theta1 and int8-per-channel: the new version quantized on the grids of the
 * channel's latest release (quantize's `deltaFriendlyVariant`), so weights that barely moved keep their
 * integers and the delta to the fleet shrinks. Built only when the channel has a release; with
 * `deltaFriendly.enabled` (the default) the optimize job adds the twin of every listed base variant.
 */
export const DELTA_FRIENDLY_VARIANTS = ['theta1+reuse', 'int8-per-channel+reuse'] as const;
/** A variant of the candidate set, or magnitude pruning + rANS at another sparsity (`prune{N}-rans`, N % ≤ 95). */
export const VariantName = Type.Union([
  Type.Enum(VARIANTS),
  Type.Enum(DELTA_FRIENDLY_VARIANTS),
  Type.String({ pattern: '^prune([0-9]|[1-8][0-9]|9[0-5])-rans$' }),
]);
export type VariantName = Static<typeof VariantName>;

/** What the optimize job tries, how it scores, what it refuses and whether it publishes by itself. */
export const OptimizationPolicy = Type.Object({
  variants: Type.Array(VariantName, { minItems: 1, uniqueItems: true, default: [...VARIANTS] }),
  /**
   * Weights of the objective's terms: L = ws*S/S0 + wt*T/T0 - wa*A/A0 - (ws + wt - wa), plus
   * wf*(F/W0 - 1) when `fleetWire` is set, F = the candidate's fleet wire bytes, W0 = theta0's full wire size.
   */
  weights: Type.Object(
    {
      size: Type.Number({ minimum: 0, default: 1 }),
      latency: Type.Number({ minimum: 0, default: 1 }),
      accuracy: Type.Number({ minimum: 0, default: 1 }),
      fleetWire: Type.Optional(
        Type.Number({
          minimum: 0,
          description:
            "Weight of the fleet's wire bytes in L (default 0: the study's L). A candidate's fleet wire bytes F is, " +
            "over the devices of the policy's channel (each distinct installed artifact weighted by its device count; " +
            "with no device, the channel's latest release), the delta size from that artifact to the candidate's " +
            'bundle, capped at the full wire size. L gains wf * (F / W0 - 1), W0 = the full wire size of theta0, so ' +
            'a candidate the fleet reaches by a small delta scores lower.',
        }),
      ),
    },
    { default: { size: 1, latency: 1, accuracy: 1 } },
  ),
  constraints: Type.Object(
    {
      /** Largest accepted test-accuracy drop against float32, in percentage points. */
      maxAccuracyDropPoints: Type.Number({ minimum: 0, maximum: 100, default: 1 }),
    },
    { default: { maxAccuracyDropPoints: 1 } },
  ),
  /**
   * Delta-friendly quantization (absent: enabled with the defaults below): when the channel has a
   * release, theta1 and int8-per-channel also get a `+reuse` twin quantized on that release's grids.
   */
  deltaFriendly: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        clipFraction: Type.Number({
          minimum: 0,
          maximum: 0.5,
          default: 0.02,
          description: "a new value may lie outside the previous grid's range by this fraction of its width (clipped)",
        }),
        maxErrorRatio: Type.Number({
          minimum: 1,
          maximum: 100,
          default: 10,
          description: 'reuse a grid only when its largest error is at most this multiple of a fresh quantization',
        }),
        keepWithinSteps: Type.Number({
          minimum: 0,
          maximum: 2,
          default: 2,
          description: 'keep the previous integer of a weight when the new value is within this many grid steps of it',
        }),
      },
      {
        description:
          "Delta-friendly quantization's tolerances; the candidates must still meet the accuracy constraint.",
      },
    ),
  ),
  autoPublish: Type.Boolean({ default: true }),
  channel: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', default: 'stable' }),
  /** Single-image runs timed per candidate after warm-up (median and p90 reported). */
  latencyRuns: Type.Integer({ minimum: 5, maximum: 1000, default: 40 }),
});
export type OptimizationPolicy = Static<typeof OptimizationPolicy>;

export const CreateModelLineBody = Type.Object({
  name: LineName,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  preprocessing: Preprocessing,
  policy: Type.Optional(Type.Partial(OptimizationPolicy)),
});
export type CreateModelLineBody = Static<typeof CreateModelLineBody>;

export const ModelLine = Type.Object(
  {
    id: Type.String(),
    name: LineName,
    preprocessing: Preprocessing,
    policy: OptimizationPolicy,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'ModelLine' },
);
export type ModelLine = Static<typeof ModelLine>;

export const ModelLineList = Type.Object({ items: Type.Array(ModelLine) });
export type ModelLineList = Static<typeof ModelLineList>;

export const LineParams = Type.Object({ line: LineName });

// ---------------------------------------------------------------------------------------------
// Datasets

export const DATASET_ROLES = ['test', 'calibration', 'train'] as const;
export const DatasetRole = Type.Enum(DATASET_ROLES);
export type DatasetRole = Static<typeof DatasetRole>;

export const Dataset = Type.Object(
  {
    id: Type.String(),
    role: DatasetRole,
    name: Type.Union([Type.String(), Type.Null()]),
    sha256: Sha256,
    sampleCount: Type.Integer(),
    classCounts: Type.Record(Type.String(), Type.Integer()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Dataset' },
);
export type Dataset = Static<typeof Dataset>;
export const DatasetList = Type.Object({ items: Type.Array(Dataset) });
export type DatasetList = Static<typeof DatasetList>;
export const DatasetParams = Type.Object({ line: LineName, id: Type.String({ format: 'uuid' }) });

// ---------------------------------------------------------------------------------------------
// Versions and candidates

export const VERSION_STATUSES = ['uploaded', 'optimizing', 'ready', 'failed'] as const;
export const VersionStatus = Type.Enum(VERSION_STATUSES);
export type VersionStatus = Static<typeof VersionStatus>;

export const Candidate = Type.Object(
  {
    id: Type.String(),
    variant: Type.String(),
    encoding: Type.String(),
    artifactSha256: Sha256,
    fileBytes: Type.Integer(),
    wireBytes: Type.Integer(),
    accuracy: Type.Number({ description: 'test accuracy, percent' }),
    trainAccuracy: Type.Union([Type.Number(), Type.Null()]),
    accuracySimulated: Type.Boolean({
      description: 'accuracy from a simulation of integer kernels, not measured on int8 hardware',
    }),
    latencyMedianMs: Type.Number(),
    latencyP90Ms: Type.Number(),
    objective: Type.Number({ description: 'L = S/S0 + T/T0 - A/A0 - 1 (weighted per policy); lower is better' }),
    eligible: Type.Boolean(),
    ineligibleReason: Type.Union([Type.String(), Type.Null()]),
    winner: Type.Boolean(),
    metrics: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'Candidate' },
);
export type Candidate = Static<typeof Candidate>;

export const Selection = Type.Object({
  winnerVariant: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type Selection = Static<typeof Selection>;

export const ModelVersion = Type.Object(
  {
    id: Type.String(),
    line: LineName,
    status: VersionStatus,
    progress: Type.Object({ stage: Type.Union([Type.String(), Type.Null()]), percent: Type.Number() }),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    sourceBytes: Type.Integer(),
    candidates: Type.Array(Candidate),
    selection: Type.Union([Selection, Type.Null()]),
    releaseNumbers: Type.Array(Type.Object({ channel: Type.String(), number: Type.Integer() })),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'ModelVersion' },
);
export type ModelVersion = Static<typeof ModelVersion>;

export const VersionAccepted = Type.Object({
  id: Type.String(),
  status: VersionStatus,
  statusUrl: Type.String(),
});
export type VersionAccepted = Static<typeof VersionAccepted>;

export const VersionParams = Type.Object({ line: LineName, version: Type.String({ format: 'uuid' }) });
export const VersionQuery = Type.Object({
  format: Type.Optional(Type.Enum(['json', 'markdown', 'csv'])),
});

// ---------------------------------------------------------------------------------------------
// Releases

/** What a release names, exactly as signed. Devices verify it against the pinned public key. */
export const ReleaseManifest = Type.Object(
  {
    schema: Type.Literal('modelfleet.release/v1'),
    line: LineName,
    channel: Type.String(),
    release: Type.Integer({ minimum: 1 }),
    artifact: Type.Object({
      sha256: Sha256,
      size: Type.Integer({ minimum: 1 }),
      encoding: Type.String(),
      variant: Type.String(),
    }),
    preprocessing: Preprocessing,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'ReleaseManifest' },
);
export type ReleaseManifest = Static<typeof ReleaseManifest>;

export const SignedReleaseManifest = Type.Object(
  {
    signed: ReleaseManifest,
    signatures: Type.Array(Type.Object({ keyId: Type.String(), signature: Type.String() }), { minItems: 1 }),
  },
  { title: 'SignedReleaseManifest' },
);
export type SignedReleaseManifest = Static<typeof SignedReleaseManifest>;

export const Release = Type.Object(
  {
    id: Type.String(),
    line: LineName,
    channel: Type.String(),
    number: Type.Integer(),
    candidateId: Type.String(),
    variant: Type.String(),
    artifactSha256: Sha256,
    artifactBytes: Type.Integer(),
    manifest: SignedReleaseManifest,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Release' },
);
export type Release = Static<typeof Release>;
export const ReleaseList = Type.Object({ items: Type.Array(Release) });
export type ReleaseList = Static<typeof ReleaseList>;

export const PublishBody = Type.Object({
  /** Publish this candidate; or give `version` to publish that version's selected winner. */
  candidateId: Type.Optional(Type.String({ format: 'uuid' })),
  version: Type.Optional(Type.String({ format: 'uuid' })),
  channel: Type.Optional(ChannelName),
});
export type PublishBody = Static<typeof PublishBody>;

export const ReleaseListQuery = Type.Object({ channel: Type.Optional(ChannelName) });

// ---------------------------------------------------------------------------------------------
// Keys

export const PublicKeys = Type.Object(
  {
    keys: Type.Array(
      Type.Object({
        keyId: Type.String(),
        algorithm: Type.Literal('ed25519'),
        publicKey: Type.String({ description: 'raw 32-byte public key, base64' }),
      }),
    ),
  },
  { title: 'PublicKeys' },
);
export type PublicKeys = Static<typeof PublicKeys>;

export const ApiKeyScopeSchema = Type.Enum(['read', 'upload', 'publish', 'admin']);
export const CreateApiKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  scopes: Type.Array(ApiKeyScopeSchema, { minItems: 1, uniqueItems: true }),
});
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;
export const ApiKeyInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(ApiKeyScopeSchema),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type ApiKeyInfo = Static<typeof ApiKeyInfo>;
export const CreatedApiKey = Type.Object({ ...ApiKeyInfo.properties, key: Type.String({ description: 'shown once' }) });
export type CreatedApiKey = Static<typeof CreatedApiKey>;
export const ApiKeyList = Type.Object({ items: Type.Array(ApiKeyInfo) });
export type ApiKeyList = Static<typeof ApiKeyList>;
export const WhoAmI = Type.Object({
  kind: Type.Literal('person'),
  prefix: Type.String(),
  scopes: Type.Array(ApiKeyScopeSchema),
});
export type WhoAmI = Static<typeof WhoAmI>;
