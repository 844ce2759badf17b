import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the integration tests use: TEST_REDIS_URL, else the machine's local one. */
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers. Under CI=true a missing Redis is an error (the tests must fail, not
 * skip); elsewhere the Redis tests are skipped with a note.
 */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined); // the failed connect() below reports it
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    if (process.env.CI === 'true')
      throw new Error(`Redis is required under CI=true but ${testRedisUrl} does not answer`, { cause: error });
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A prefix no other test run uses, so runs never see each other's jobs. */
export function uniquePrefix(label: string): string {
  return `mf-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `prefix`. */
export async function removePrefix(prefix: string): Promise<void> {
  const redis = new Redis(testRedisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
