import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, WorkerConfigError } from './config.js';

describe('loadWorkerConfig', () => {
  it('applies defaults: blobs under the data folder, one job at a time, prefix modelfleet', () => {
    const config = loadWorkerConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1/modelfleet',
    });
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgresql://postgres@127.0.0.1/modelfleet',
      dataDir: resolve('.modelfleet'),
      signingKeyPem: undefined,
      blobRoot: resolve('.modelfleet', 'blobs'),
      concurrency: 1,
      queuePrefix: 'modelfleet',
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      deltaMaxRatio: 0.8,
      deltaKeepMs: 24 * 3600 * 1000,
    });
    expect(config.cpuThreads).toBeGreaterThanOrEqual(1);
  });

  it('takes BLOB_DIR over MODELFLEET_DATA_DIR, and parses numbers', () => {
    expect(
      loadWorkerConfig({
        REDIS_URL: 'redis://r:6379',
        DATABASE_URL: 'postgres://db/mf',
        MODELFLEET_DATA_DIR: '/data',
        WORKER_CONCURRENCY: '4',
        MODELFLEET_DELTA_KEEP_HOURS: '2',
      }),
    ).toMatchObject({ blobRoot: '/data/blobs', concurrency: 4, deltaKeepMs: 2 * 3600 * 1000 });
    expect(
      loadWorkerConfig({
        REDIS_URL: 'redis://r:6379',
        DATABASE_URL: 'postgres://db/mf',
        MODELFLEET_DATA_DIR: '/data',
        BLOB_DIR: '/shared/blobs',
        WORKER_CPU_THREADS: '3',
      }),
    ).toMatchObject({ blobRoot: '/shared/blobs', cpuThreads: 3 });
  });

  it('lists every bad variable at once', () => {
    let thrown: unknown;
    try {
      loadWorkerConfig({
        WORKER_CONCURRENCY: '4x',
        QUEUE_PREFIX: 'has space',
        LOG_LEVEL: 'loud',
        SHUTDOWN_TIMEOUT_MS: '-1',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WorkerConfigError);
    const problems = (thrown as WorkerConfigError).problems;
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'QUEUE_PREFIX',
      'REDIS_URL',
      'SHUTDOWN_TIMEOUT_MS',
      'WORKER_CONCURRENCY',
    ]);
    expect((thrown as Error).message).toContain('REDIS_URL: required');
  });

  it('refuses a REDIS_URL that is not a redis URL and a concurrency of 0', () => {
    expect(() =>
      loadWorkerConfig({ REDIS_URL: 'localhost:6379', DATABASE_URL: 'postgres://db/mf', WORKER_CONCURRENCY: '0' }),
    ).toThrow(/REDIS_URL: [\s\S]*WORKER_CONCURRENCY: must be >= 1/);
  });
});
