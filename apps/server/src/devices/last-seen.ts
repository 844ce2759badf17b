import type { Logger } from 'pino';
import type { Database } from '@modelfleet/db';

export interface LastSeenOptions {
  /** How often the batch is written. */
  flushIntervalMs: number;
  logger: Logger;
  /** Devices per UPDATE statement. */
  chunkSize?: number;
  /** A device written less than this long ago is not written again (its last-seen time is this exact). */
  resolutionMs?: number;
  now?: () => number;
}

export interface LastSeen {
  /** Notes that a device was heard from now; costs a map write, never a query. */
  seen(deviceRowId: string): void;
  /** Writes what was noted so far (one UPDATE per chunk of devices). */
  flush(): Promise<void>;
  /** Stops the timer and flushes once more. Idempotent. */
  close(): Promise<void>;
  readonly pending: number;
}

/**
 * Device `lastSeenAt`, batched: a poll only notes the device in memory, and a timer writes every device
 * seen since the last flush in a few `UPDATE … WHERE id IN (…)` statements, never one write per poll.
 * The time written is the flush's start, and a device is written at most once per `resolutionMs`, so
 * `lastSeenAt` is exact to within a minute (by default) however often a device polls.
 */
export function createLastSeen(db: Database, options: LastSeenOptions): LastSeen {
  // Small statements: on the embedded default PGlite runs on the server's own thread, so one UPDATE of
  // 1,000 rows paused every request for up to ~500 ms (bench:poll max latency); 250 rows keep it short.
  const chunkSize = options.chunkSize ?? 250;
  const resolutionMs = options.resolutionMs ?? 60_000;
  const now = options.now ?? Date.now;
  let seen = new Set<string>();
  /** When each device's last-seen time was last written, so a device polling often costs one write a minute. */
  const writtenAt = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  async function write(): Promise<void> {
    if (seen.size === 0) return;
    const batch = [...seen];
    seen = new Set();
    const at = new Date(now());
    for (let start = 0; start < batch.length; start += chunkSize) {
      const ids = batch.slice(start, start + chunkSize);
      try {
        await db.prisma.device.updateMany({ where: { id: { in: ids } }, data: { lastSeenAt: at } });
        for (const id of ids) writtenAt.set(id, at.getTime());
      } catch (error) {
        // Kept for the next flush: a database hiccup must not lose who was seen.
        for (const id of ids) seen.add(id);
        options.logger.warn({ err: error, devices: ids.length }, 'could not record device last-seen times');
      }
    }
  }

  const flush = (): Promise<void> => {
    flushing ??= write().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  return {
    seen(deviceRowId) {
      const written = writtenAt.get(deviceRowId);
      if (written !== undefined && now() - written < resolutionMs) return;
      seen.add(deviceRowId);
    },
    flush: async () => {
      await flushing;
      await flush();
    },
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await flushing;
        await write();
      })();
      return closed;
    },
    get pending() {
      return seen.size;
    },
  };
}
