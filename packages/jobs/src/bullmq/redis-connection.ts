import { Redis } from 'ioredis';

/**
 * A Redis connection as BullMQ needs it: `maxRetriesPerRequest: null` so blocking commands
 * (workers, queue events) wait through a Redis restart instead of failing
 * (https://docs.bullmq.io/guide/going-to-production#maxretriesperrequest).
 */
export function connectRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

/** Closes a connection this package opened: QUIT when connected, else just drop it. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** The default queue name and prefix; processes sharing both share the jobs. */
export const DEFAULT_QUEUE_NAME = 'jobs';
export const DEFAULT_PREFIX = 'modelfleet';

/** Finished jobs kept in Redis for `getJob` and deduplication (same figure as the in-process driver). */
export const KEEP_FINISHED = 10_000;
