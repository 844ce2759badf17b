/** Helpers for integration tests of packages that run jobs (not for production code). */
export { redisAvailable, removePrefix, testRedisUrl, uniquePrefix } from './redis.js';
