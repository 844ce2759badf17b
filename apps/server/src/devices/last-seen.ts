import type { Logger } from 'pino';
import type { Database } from '@modelfleet/db';

export interface LastSeenOptions {
  /** How often the batch is written. */
  flushIntervalMs: number;
  logger: Logger;
  /** Devices per UPDATE statement. */
  chunkSize?: number;
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
 * The time written is the flush's start, so `lastSeenAt` is exact to within `flushIntervalMs`.
 */
export function createLastSeen(db: Database, options: LastSeenOptions): LastSeen {
  const chunkSize = options.chunkSize ?? 1_000;
  let seen = new Set<string>();
  let flushing: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  async function write(): Promise<void> {
    if (seen.size === 0) return;
    const batch = [...seen];
    seen = new Set();
    const at = new Date();
    for (let start = 0; start < batch.length; start += chunkSize) {
      const ids = batch.slice(start, start + chunkSize);
      try {
        await db.prisma.device.updateMany({ where: { id: { in: ids } }, data: { lastSeenAt: at } });
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
