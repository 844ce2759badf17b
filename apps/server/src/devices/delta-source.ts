import type { DeltaCache } from '@modelfleet/distribution';
import type { DeltaRef, DeltaSource } from './poll-answers.js';

export interface CacheDeltaSourceOptions {
  /**
   * How long a poll waits for a delta that is being computed. Past it the poll is answered with the full
   * artifact only; the computation goes on and the device's next poll (or another device's) gets the delta.
   */
  waitMs: number;
}

/**
 * The poll's DeltaSource on top of the delta cache: a pair this process has decided answers from memory
 * (a plain value — no promise, query or computation on a warm poll); a new pair is looked up or computed once.
 */
export function createCacheDeltaSource(cache: DeltaCache, options: CacheDeltaSourceOptions): DeltaSource {
  const refs = new Map<string, DeltaRef>();
  const toRef = (from: string, delta: { sha256: string; size: number; format: string }): DeltaRef => {
    const key = `${from}:${delta.sha256}`;
    let ref = refs.get(key);
    if (ref === undefined) {
      if (refs.size >= 20_000) refs.clear();
      ref = { from, sha256: delta.sha256, size: delta.size, format: delta.format, url: `/v1/blobs/${delta.sha256}` };
      refs.set(key, ref);
    }
    return ref;
  };
  return {
    deltaFor(from, target) {
      const known = cache.peek(from, target.artifactSha256);
      if (known !== undefined) return known === null ? null : toRef(from, known);
      const decided = cache
        .deltaFor(from, target.artifactSha256)
        .then((delta) => (delta === null ? null : toRef(from, delta)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), options.waitMs);
        timer.unref();
      });
      return Promise.race([decided, timeout]).finally(() => clearTimeout(timer));
    },
  };
}
