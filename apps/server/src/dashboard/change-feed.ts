import type { Database } from '@modelfleet/db';

/** What the dashboard shows, each re-fetched as a whole when it changes. */
export const CHANGE_TOPICS = ['lines', 'releases', 'rollouts', 'devices'] as const;
export type ChangeTopic = (typeof CHANGE_TOPICS)[number];

export type ChangeListener = (topics: ChangeTopic[]) => void;

export interface ChangeFeed {
  /**
   * Starts the shared poll with the first listener; stops it with the last. `onReady` is called once the
   * state changes are measured against has been read (fetch the views then, and nothing is missed).
   * Returns the unsubscribe.
   */
  subscribe(listener: ChangeListener, onReady?: () => void): () => void;
  readonly listeners: number;
  close(): void;
}

type Fingerprints = Record<ChangeTopic, string>;

/**
 * One row of fingerprints per topic: counts and latest timestamps of the tables behind it. A change in
 * any process (another server, a BullMQ worker, a device's report) moves one of them, so the feed works
 * with several server processes without a message bus. Each value is an aggregate over an index or a
 * small table; one query per interval for every open dashboard of this process together.
 */
async function readFingerprints(db: Database): Promise<Fingerprints> {
  const rows = await db.prisma.$queryRaw<Fingerprints[]>`
    SELECT
      (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM model_lines)
        || '|' || (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM model_versions)
        || '|' || (SELECT count(*) || '/' || coalesce(max(created_at)::text, '') FROM datasets)
        || '|' || (SELECT count(*)::text FROM candidates) AS lines,
      (SELECT count(*) || '/' || coalesce(max(created_at)::text, '') FROM releases) AS releases,
      (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM rollouts)
        || '|' || (SELECT count(*) || '/' || coalesce(max(coalesce(finished_at, started_at))::text, '')
                   || '/' || count(finished_at) || '/' || count(started_at) FROM rollout_waves)
        || '|' || (SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM rollout_devices) AS rollouts,
      (SELECT count(*) || '/' || count(revoked_at) || '/' || coalesce(max(enrolled_at)::text, '')
              || '/' || coalesce(max(last_seen_at)::text, '') || '/' || coalesce(max(revoked_at)::text, '') FROM devices)
        || '|' || (SELECT count(*) || '/' || coalesce(max(received_at)::text, '') FROM device_reports) AS devices`;
  const row = rows[0];
  if (row === undefined) throw new Error('the change query returned no row');
  return row;
}

export interface ChangeFeedOptions {
  intervalMs: number;
  logger: { warn(details: object, message: string): void };
}

/**
 * Change notices for live dashboards: while at least one listener is subscribed, the fingerprints are
 * read every `intervalMs` and the topics whose fingerprint moved are announced to every listener.
 */
export function createChangeFeed(db: Database, options: ChangeFeedOptions): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  /** Told once the fingerprints they will be compared against have been read. */
  let waitingForBaseline: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last: Fingerprints | undefined;
  let looping = false;
  let closed = false;

  const tick = async () => {
    timer = undefined;
    try {
      const next = await readFingerprints(db);
      const changed = last === undefined ? [] : CHANGE_TOPICS.filter((topic) => next[topic] !== last?.[topic]);
      last = next;
      const ready = waitingForBaseline;
      waitingForBaseline = [];
      for (const callback of ready) callback();
      if (changed.length > 0) for (const listener of listeners) listener(changed);
    } catch (error) {
      options.logger.warn({ err: error }, 'could not read dashboard change fingerprints');
    } finally {
      // Scheduled after the read finished: a slow database never gets overlapping polls.
      if (!closed && listeners.size > 0) timer = setTimeout(() => void tick(), options.intervalMs);
      else looping = false;
    }
  };

  return {
    subscribe(listener, onReady) {
      listeners.add(listener);
      if (onReady !== undefined) {
        if (looping && last !== undefined) queueMicrotask(onReady);
        else waitingForBaseline.push(onReady);
      }
      if (!looping && !closed) {
        looping = true;
        last = undefined;
        timer = setTimeout(() => void tick(), 0);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          looping = false;
        }
      };
    },
    get listeners() {
      return listeners.size;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      listeners.clear();
      waitingForBaseline = [];
    },
  };
}
