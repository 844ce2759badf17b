/**
 * Fixed-window request counters kept in this process's memory. Each server process limits on its own
 * (N processes behind a balancer allow N times the budget); that is enough for what they are for: a
 * device that polls in a loop, and guesses of device tokens or API keys, which each cost a database
 * query when they miss the device-token cache.
 */
export interface RateLimiter {
  /** Counts one hit for `key`; false when the key has used up its budget in this window. */
  hit(key: string): boolean;
  /** True while `key` is over its budget in this window (does not count). */
  blocked(key: string): boolean;
  /** Milliseconds until the current window ends (for Retry-After). */
  retryAfterMs(): number;
  readonly size: number;
}

export interface RateLimiterOptions {
  /** Hits allowed per key and window; 0 disables the limiter. */
  limit: number;
  windowMs: number;
  /**
   * Keys tracked at most per window: memory stays bounded under a flood of distinct keys (addresses,
   * tokens). Keys beyond it are not limited in that window (fail open; a flood that large is a network
   * problem, not a guessing one).
   */
  maxKeys?: number;
  now?: () => number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  let windowStart = now();
  let counts = new Map<string, number>();
  const roll = () => {
    const at = now();
    if (at - windowStart >= options.windowMs) {
      windowStart = at - ((at - windowStart) % options.windowMs);
      counts = new Map();
    }
  };
  return {
    hit(key) {
      if (options.limit <= 0) return true;
      roll();
      const count = counts.get(key);
      if (count === undefined) {
        if (counts.size >= maxKeys) return true;
        counts.set(key, 1);
        return 1 <= options.limit;
      }
      counts.set(key, count + 1);
      return count + 1 <= options.limit;
    },
    blocked(key) {
      if (options.limit <= 0) return false;
      roll();
      return (counts.get(key) ?? 0) >= options.limit;
    },
    retryAfterMs() {
      roll();
      return Math.max(0, windowStart + options.windowMs - now());
    },
    get size() {
      return counts.size;
    },
  };
}
