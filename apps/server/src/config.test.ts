import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { generateApiKey } from './auth/api-keys.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, '/srv');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the embedded default with nothing set: PGlite, in-process jobs, ./.modelfleet, port 3000', () => {
    const config = loadConfig({}, '/srv');
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('/srv', '.modelfleet'),
      database: 'pglite',
      queue: 'in-process',
      databaseUrl: undefined,
      redisUrl: undefined,
      adminKey: undefined,
    });
    expect(config.limits.modelUploadBytes).toBe(256 * 1024 * 1024);
    expect(config.databasePool).toEqual({ max: 20, waitMs: 5_000 });
    expect(config.intervals).toEqual({ rolloutSweepMs: 5_000, eventsPollMs: 1_000 });
  });

  it('switches to PostgreSQL and BullMQ when DATABASE_URL and REDIS_URL are set, and reads the limits', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mf',
        REDIS_URL: 'redis://127.0.0.1:6379',
        PORT: '8080',
        MODEL_UPLOAD_MAX_BYTES: '2048',
        ARCHIVE_MAX_ENTRIES: '3',
        MODELFLEET_DATA_DIR: 'data',
        DATABASE_POOL_MAX: '40',
        DATABASE_POOL_WAIT_MS: '2500',
        ROLLOUT_SWEEP_MS: '30000',
        EVENTS_POLL_MS: '250',
      },
      '/srv',
    );
    expect(config).toMatchObject({ database: 'postgres', queue: 'bullmq', port: 8080, dataDir: '/srv/data' });
    expect(config.databasePool).toEqual({ max: 40, waitMs: 2_500 });
    expect(config.intervals).toEqual({ rolloutSweepMs: 30_000, eventsPollMs: 250 });
    expect(config.limits).toMatchObject({ modelUploadBytes: 2048, archiveMaxEntries: 3 });
  });

  it('refuses a bad configuration as a whole, naming every bad variable once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://db',
      ARCHIVE_MAX_ENTRIES: '0',
      DATABASE_POOL_MAX: '0',
      ROLLOUT_SWEEP_MS: '10',
    });
    expect(problems).toHaveLength(6);
    expect(problems.some((p) => p.startsWith('ROLLOUT_SWEEP_MS:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_POOL_MAX:'))).toBe(true);
    expect(problems.find((p) => p.startsWith('PORT:'))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toContain(
      'must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(problems.some((p) => p.startsWith('DATABASE_URL:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('ARCHIVE_MAX_ENTRIES:'))).toBe(true);
  });

  it('refuses REDIS_URL without DATABASE_URL (workers cannot reach the embedded database)', () => {
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([
      expect.stringMatching(/^REDIS_URL: needs DATABASE_URL/),
    ]);
  });

  it('names a malformed secret without echoing it', () => {
    const secret = `${generateApiKey().key}!`;
    const problems = problemsOf({ MODELFLEET_ADMIN_KEY: secret });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^MODELFLEET_ADMIN_KEY:/);
    expect(problems[0]).not.toContain(secret.slice(4, 30));
  });

  it('takes a well-formed admin key', () => {
    const { key } = generateApiKey();
    expect(loadConfig({ MODELFLEET_ADMIN_KEY: key }).adminKey).toBe(key);
  });
});
