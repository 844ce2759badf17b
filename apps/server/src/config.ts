import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { DeviceSettings } from './devices/device-services.js';

/**
 * The server's configuration: read from the environment once at start-up, validated against this schema,
 * and refused as a whole with every problem listed when anything is wrong.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  MODELFLEET_DATA_DIR: Type.String({ minLength: 1, default: './.modelfleet' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** PostgreSQL connections this process opens at most (several server processes and workers share the server's limit). */
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  /** How long a request waits for a free connection before it is answered 503 MF_ERR_DB_BUSY with Retry-After. */
  DATABASE_POOL_WAIT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  QUEUE_PREFIX: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9:_-]+$', default: 'modelfleet' }),
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info' }),
  /** Largest request body accepted on any route, in bytes (uploads have their own limits). */
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  /** All files of one model upload together, in bytes. */
  MODEL_UPLOAD_MAX_BYTES: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024 }),
  /** Files in one model upload (model.json + shards). */
  MODEL_UPLOAD_MAX_FILES: Type.Integer({ minimum: 2, default: 200 }),
  /** One dataset upload (archive or dataset file), in bytes. */
  DATASET_UPLOAD_MAX_BYTES: Type.Integer({ minimum: 1024, default: 512 * 1024 * 1024 }),
  /** Entries an uploaded archive may hold. */
  ARCHIVE_MAX_ENTRIES: Type.Integer({ minimum: 1, default: 50_000 }),
  /** Bytes an uploaded archive may expand to. */
  ARCHIVE_MAX_EXPANDED_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 * 1024 }),
  /** Largest JSON body a device route accepts (reports are a few hundred bytes), in bytes. */
  DEVICE_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 16 * 1024 }),
  /** Deepest nesting of arrays and objects accepted in a JSON request body. */
  JSON_MAX_DEPTH: Type.Integer({ minimum: 4, maximum: 1000, default: 32 }),
  /** Whole-request deadline (headers and body, uploads included); Node checks it every 30 s. 0: none. */
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  /** Time a client has to send the request headers (slow-loris). */
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 30_000 }),
  /** A connection with no bytes moving either way for this long is closed. 0: never. */
  CONNECTION_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 120_000 }),
  /** Requests one device token may make per minute, per server process. 0: unlimited. */
  RATE_LIMIT_DEVICE_PER_MINUTE: Type.Integer({ minimum: 0, default: 600 }),
  /** Refused credentials (401) one client address may cause per minute, per process, before it gets 429. 0: unlimited. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: Type.Integer({ minimum: 0, default: 300 }),
  /**
   * Reverse proxies in front of the server that append to X-Forwarded-For (TLS terminator: 1). The
   * per-address limit then keys on the client's address, not the proxy's. 0: the socket's address.
   */
  TRUSTED_PROXY_HOPS: Type.Integer({ minimum: 0, maximum: 8, default: 0 }),
  /** PKCS#8 PEM of the ed25519 release-signing key (production); else a key kept in the data folder. */
  MODELFLEET_SIGNING_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** An API key to register as admin at start-up; else the embedded default makes one and prints it once. */
  MODELFLEET_ADMIN_KEY: Type.Optional(Type.String({ pattern: '^mfk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$' })),
  /** How long a graceful shutdown waits for in-flight requests and jobs before it gives up. */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  /** Seconds a device is told to wait between polls (it adds jitter). */
  DEVICE_POLL_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  /** Lifetime of a signed update offer; a replayed offer stops working after it (freeze attacks). */
  DEVICE_OFFER_LIFETIME_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  /** How long a device stays in the device-token cache before it is read again. */
  DEVICE_AUTH_CACHE_TTL_MS: Type.Integer({ minimum: 0, default: 600_000 }),
  /** How often revocations and re-enrolments (from any process) are swept out of that cache. */
  DEVICE_AUTH_SWEEP_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** How long a channel's latest release is cached (bounds staleness after a publish in another process). */
  DEVICE_RELEASE_CACHE_TTL_MS: Type.Integer({ minimum: 0, default: 2_000 }),
  /** How often devices' last-seen times are written (batched). */
  DEVICE_LAST_SEEN_FLUSH_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** A delta is offered only when at most this share of the full artifact (else the device gets the full file). */
  MODELFLEET_DELTA_MAX_RATIO: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.8 }),
  /** How long a poll waits for a delta being computed before it answers with the full artifact only. */
  MODELFLEET_DELTA_WAIT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  /** Hours a delta no device can be offered any more is kept before the precompute job's prune removes it. */
  MODELFLEET_DELTA_KEEP_HOURS: Type.Integer({ minimum: 0, default: 24 }),
  /** How often each server process evaluates active rollouts with no report or action (timeouts, new devices). */
  ROLLOUT_SWEEP_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** How often each server process checks for changes to push to open dashboards (GET /v1/events). */
  EVENTS_POLL_MS: Type.Integer({ minimum: 100, default: 1_000 }),
});

export type RawConfig = Static<typeof ConfigSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  /** Absolute path of the data folder (PGlite data, blobs, keys in the embedded default). */
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL pool: most connections, and the wait for one before a request gets 503 MF_ERR_DB_BUSY. */
  databasePool: { max: number; waitMs: number };
  redisUrl: string | undefined;
  queuePrefix: string;
  logLevel: RawConfig['LOG_LEVEL'];
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  limits: UploadLimits;
  devices: DeviceSettings;
  intervals: Intervals;
  signingKeyPem: string | undefined;
  adminKey: string | undefined;
  /** PGlite in the data folder (embedded default) or PostgreSQL at `DATABASE_URL`. */
  database: 'pglite' | 'postgres';
  /** The in-process job runner (embedded default) or BullMQ on Redis at `REDIS_URL`. */
  queue: 'in-process' | 'bullmq';
}

/** The periodic work of each server process. */
export interface Intervals {
  rolloutSweepMs: number;
  eventsPollMs: number;
}

/** Bounds on every request (see plugins/limits.ts and auth/plugin.ts). */
export interface RequestLimits {
  deviceBodyBytes: number;
  jsonMaxDepth: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  connectionIdleTimeoutMs: number;
  devicePerMinute: number;
  authFailuresPerMinute: number;
  trustedProxyHops: number;
}

export interface UploadLimits {
  requests: RequestLimits;
  modelUploadBytes: number;
  modelUploadMaxFiles: number;
  datasetUploadBytes: number;
  archiveMaxEntries: number;
  archiveMaxExpandedBytes: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const INTEGER_KEYS = new Set([
  'PORT',
  'DATABASE_POOL_MAX',
  'DATABASE_POOL_WAIT_MS',
  'BODY_LIMIT_BYTES',
  'SHUTDOWN_TIMEOUT_MS',
  'MODEL_UPLOAD_MAX_BYTES',
  'MODEL_UPLOAD_MAX_FILES',
  'DATASET_UPLOAD_MAX_BYTES',
  'ARCHIVE_MAX_ENTRIES',
  'ARCHIVE_MAX_EXPANDED_BYTES',
  'DEVICE_BODY_LIMIT_BYTES',
  'JSON_MAX_DEPTH',
  'REQUEST_TIMEOUT_MS',
  'HEADERS_TIMEOUT_MS',
  'CONNECTION_IDLE_TIMEOUT_MS',
  'RATE_LIMIT_DEVICE_PER_MINUTE',
  'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE',
  'TRUSTED_PROXY_HOPS',
  'DEVICE_POLL_AFTER_SECONDS',
  'DEVICE_OFFER_LIFETIME_SECONDS',
  'DEVICE_AUTH_CACHE_TTL_MS',
  'DEVICE_AUTH_SWEEP_MS',
  'DEVICE_RELEASE_CACHE_TTL_MS',
  'DEVICE_LAST_SEEN_FLUSH_MS',
  'MODELFLEET_DELTA_WAIT_MS',
  'MODELFLEET_DELTA_KEEP_HOURS',
  'ROLLOUT_SWEEP_MS',
  'EVENTS_POLL_MS',
]);
const NUMBER_KEYS = new Set(['MODELFLEET_DELTA_MAX_RATIO']);

/** Parses the environment into a config, or throws a ConfigError that names every bad variable. */
/**
 * Relative paths (the data folder) resolve against the folder the person ran `npm start` in (npm sets
 * INIT_CWD; turbo then runs the server inside apps/server), else the process's own working folder.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = env.INIT_CWD ?? process.cwd()): ServerConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    raw[key] =
      (INTEGER_KEYS.has(key) && /^-?\d+$/.test(value.trim())) ||
      (NUMBER_KEYS.has(key) && /^-?(\d+\.?\d*|\.\d+)$/.test(value.trim()))
        ? Number(value)
        : value;
  }
  const withDefaults = Value.Default(ConfigSchema, raw);
  const problemByKey = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = error.instancePath.replace(/^\//, '') || 'config';
    if (problemByKey.has(key)) continue;
    const expected = key === 'LOG_LEVEL' ? `must be one of ${LOG_LEVELS.join(', ')}` : error.message;
    // Secrets are named, never echoed.
    const got =
      key === 'MODELFLEET_SIGNING_KEY' || key === 'MODELFLEET_ADMIN_KEY'
        ? 'a value of the wrong form'
        : JSON.stringify(env[key]);
    problemByKey.set(key, `${key}: ${expected} (got ${got})`);
  }
  if (raw['REDIS_URL'] !== undefined && raw['DATABASE_URL'] === undefined) {
    problemByKey.set(
      'REDIS_URL',
      'REDIS_URL: needs DATABASE_URL as well (worker processes cannot reach the embedded database)',
    );
  }
  const problems = [...problemByKey.values()];
  if (problems.length > 0) throw new ConfigError(problems);
  const config = withDefaults as RawConfig;
  return {
    port: config.PORT,
    host: config.HOST,
    dataDir: path.resolve(cwd, config.MODELFLEET_DATA_DIR),
    databaseUrl: config.DATABASE_URL,
    databasePool: { max: config.DATABASE_POOL_MAX, waitMs: config.DATABASE_POOL_WAIT_MS },
    redisUrl: config.REDIS_URL,
    queuePrefix: config.QUEUE_PREFIX,
    logLevel: config.LOG_LEVEL,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    limits: {
      requests: {
        deviceBodyBytes: config.DEVICE_BODY_LIMIT_BYTES,
        jsonMaxDepth: config.JSON_MAX_DEPTH,
        requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
        connectionIdleTimeoutMs: config.CONNECTION_IDLE_TIMEOUT_MS,
        devicePerMinute: config.RATE_LIMIT_DEVICE_PER_MINUTE,
        authFailuresPerMinute: config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
        trustedProxyHops: config.TRUSTED_PROXY_HOPS,
      },
      modelUploadBytes: config.MODEL_UPLOAD_MAX_BYTES,
      modelUploadMaxFiles: config.MODEL_UPLOAD_MAX_FILES,
      datasetUploadBytes: config.DATASET_UPLOAD_MAX_BYTES,
      archiveMaxEntries: config.ARCHIVE_MAX_ENTRIES,
      archiveMaxExpandedBytes: config.ARCHIVE_MAX_EXPANDED_BYTES,
    },
    devices: {
      pollAfterSeconds: config.DEVICE_POLL_AFTER_SECONDS,
      offerLifetimeSeconds: config.DEVICE_OFFER_LIFETIME_SECONDS,
      authCacheTtlMs: config.DEVICE_AUTH_CACHE_TTL_MS,
      authSweepMs: config.DEVICE_AUTH_SWEEP_MS,
      releaseCacheTtlMs: config.DEVICE_RELEASE_CACHE_TTL_MS,
      lastSeenFlushMs: config.DEVICE_LAST_SEEN_FLUSH_MS,
      deltaMaxRatio: config.MODELFLEET_DELTA_MAX_RATIO,
      deltaWaitMs: config.MODELFLEET_DELTA_WAIT_MS,
      deltaKeepMs: config.MODELFLEET_DELTA_KEEP_HOURS * 3600 * 1000,
    },
    intervals: { rolloutSweepMs: config.ROLLOUT_SWEEP_MS, eventsPollMs: config.EVENTS_POLL_MS },
    signingKeyPem: config.MODELFLEET_SIGNING_KEY,
    adminKey: config.MODELFLEET_ADMIN_KEY,
    database: config.DATABASE_URL === undefined ? 'pglite' : 'postgres',
    queue: config.REDIS_URL === undefined ? 'in-process' : 'bullmq',
  };
}
