import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The worker's environment, parsed once at start-up. Anything wrong is refused as a whole, with
 * every bad variable listed, before a connection is opened.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const WorkerEnvSchema = Type.Object({
  REDIS_URL: Type.String({ pattern: '^rediss?://', description: 'Redis that BullMQ runs on (required)' }),
  /** PGlite lives inside one process, so a separate worker shares the server's data only through PostgreSQL. */
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL the server uses too (required)' }),
  /** PKCS#8 PEM of the release-signing key; default the key file in the data folder the server shares. */
  MODELFLEET_SIGNING_KEY: Type.Optional(Type.String({ minLength: 1 })),
  MODELFLEET_DATA_DIR: Type.String({ minLength: 1, default: './.modelfleet' }),
  /** Blob root; default `$MODELFLEET_DATA_DIR/blobs`. Every server and worker must see the same one. */
  BLOB_DIR: Type.Optional(Type.String({ minLength: 1 })),
  /** Jobs this process runs at once. */
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** Threads for CPU-heavy job steps; default os.availableParallelism() - 1, at least 1. */
  WORKER_CPU_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** Redis key prefix; the server and its workers must agree (the server's default is the same). */
  QUEUE_PREFIX: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9:_.-]+$', default: 'modelfleet' }),
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: 'info' }),
  /** How long shutdown waits for running jobs before releasing them to other workers. */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  /** Largest delta the precompute job keeps, as a share of the full artifact (same variable as the server's). */
  MODELFLEET_DELTA_MAX_RATIO: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.8 }),
  /** Hours a delta no device can be offered any more is kept before it is removed (same variable as the server's). */
  MODELFLEET_DELTA_KEEP_HOURS: Type.Integer({ minimum: 0, default: 24 }),
});

export type WorkerEnv = Static<typeof WorkerEnvSchema>;

export interface WorkerConfig {
  redisUrl: string;
  databaseUrl: string;
  /** Absolute path of the data folder (the signing key file lives in `keys/`). */
  dataDir: string;
  signingKeyPem: string | undefined;
  /** Absolute path of the blob store's root. */
  blobRoot: string;
  concurrency: number;
  cpuThreads: number;
  queuePrefix: string;
  logLevel: WorkerEnv['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  deltaMaxRatio: number;
  deltaKeepMs: number;
}

export class WorkerConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid worker configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'WorkerConfigError';
    this.problems = problems;
  }
}

const KNOWN = Object.keys(WorkerEnvSchema.properties);
const INTEGERS = new Set([
  'WORKER_CONCURRENCY',
  'WORKER_CPU_THREADS',
  'SHUTDOWN_TIMEOUT_MS',
  'MODELFLEET_DELTA_KEEP_HOURS',
]);

/** Reads the worker's variables from `env`; throws WorkerConfigError listing every problem. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of KNOWN) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    if (INTEGERS.has(key)) {
      // Strict: "4" is 4, but "4x", "1e3" or " 4" are mistakes worth reporting, not coercing.
      if (/^\d+$/.test(value)) raw[key] = Number(value);
      else problems.push(`${key}: must be a whole number, got ${JSON.stringify(value)}`);
    } else if (key === 'MODELFLEET_DELTA_MAX_RATIO') {
      if (/^(\d+\.?\d*|\.\d+)$/.test(value)) raw[key] = Number(value);
      else problems.push(`${key}: must be a number, got ${JSON.stringify(value)}`);
    } else {
      raw[key] = value;
    }
  }
  const withDefaults = Value.Default(WorkerEnvSchema, raw);
  for (const error of Value.Errors(WorkerEnvSchema, withDefaults)) {
    const key = error.instancePath.replace(/^\//, '');
    // One problem per variable (a non-integer already has its own); a missing one has an empty path.
    if (key !== '' && problems.some((problem) => problem.startsWith(`${key}:`))) continue;
    if (key === 'LOG_LEVEL') {
      problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
    } else if (key === '' && error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const name of missing) problems.push(`${name}: required`);
    } else if (key === 'MODELFLEET_SIGNING_KEY') {
      problems.push(`${key}: must be a PKCS#8 PEM text`); // secrets are named, never echoed
    } else if (key !== '') {
      problems.push(`${key}: ${error.message}`);
    }
  }
  if (problems.length > 0) throw new WorkerConfigError([...new Set(problems)]);

  const parsed = withDefaults as WorkerEnv;
  const dataDir = resolve(parsed.MODELFLEET_DATA_DIR);
  return {
    redisUrl: parsed.REDIS_URL,
    databaseUrl: parsed.DATABASE_URL,
    dataDir,
    signingKeyPem: parsed.MODELFLEET_SIGNING_KEY,
    blobRoot: resolve(parsed.BLOB_DIR ?? resolve(dataDir, 'blobs')),
    concurrency: parsed.WORKER_CONCURRENCY,
    cpuThreads: parsed.WORKER_CPU_THREADS ?? Math.max(1, availableParallelism() - 1),
    queuePrefix: parsed.QUEUE_PREFIX,
    logLevel: parsed.LOG_LEVEL,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    deltaMaxRatio: parsed.MODELFLEET_DELTA_MAX_RATIO,
    deltaKeepMs: parsed.MODELFLEET_DELTA_KEEP_HOURS * 3600 * 1000,
  };
}
