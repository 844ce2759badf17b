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
});

export type RawConfig = Static<typeof ConfigSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  /** Absolute path of the data folder (PGlite data, blobs, keys in the embedded default). */
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  queuePrefix: string;
  logLevel: RawConfig['LOG_LEVEL'];
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  limits: UploadLimits;
  devices: DeviceSettings;
  signingKeyPem: string | undefined;
  adminKey: string | undefined;
  /** PGlite in the data folder (embedded default) or PostgreSQL at `DATABASE_URL`. */
  database: 'pglite' | 'postgres';
  /** The in-process job runner (embedded default) or BullMQ on Redis at `REDIS_URL`. */
  queue: 'in-process' | 'bullmq';
}

export interface UploadLimits {
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
  'BODY_LIMIT_BYTES',
  'SHUTDOWN_TIMEOUT_MS',
  'MODEL_UPLOAD_MAX_BYTES',
  'MODEL_UPLOAD_MAX_FILES',
  'DATASET_UPLOAD_MAX_BYTES',
  'ARCHIVE_MAX_ENTRIES',
  'ARCHIVE_MAX_EXPANDED_BYTES',
  'DEVICE_POLL_AFTER_SECONDS',
  'DEVICE_OFFER_LIFETIME_SECONDS',
  'DEVICE_AUTH_CACHE_TTL_MS',
  'DEVICE_AUTH_SWEEP_MS',
  'DEVICE_RELEASE_CACHE_TTL_MS',
  'DEVICE_LAST_SEEN_FLUSH_MS',
]);

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
    raw[key] = INTEGER_KEYS.has(key) && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
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
    redisUrl: config.REDIS_URL,
    queuePrefix: config.QUEUE_PREFIX,
    logLevel: config.LOG_LEVEL,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    limits: {
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
    },
    signingKeyPem: config.MODELFLEET_SIGNING_KEY,
    adminKey: config.MODELFLEET_ADMIN_KEY,
    database: config.DATABASE_URL === undefined ? 'pglite' : 'postgres',
    queue: config.REDIS_URL === undefined ? 'in-process' : 'bullmq',
  };
}
