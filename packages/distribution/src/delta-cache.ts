import type { Database } from '@modelfleet/db';
import { isModelFleetError } from '@modelfleet/errors';
import { readBlobBytes, type BlobStore } from '@modelfleet/storage';
import { pino, type Logger } from 'pino';
import type { DeltaCodec } from './delta-codec.js';

/** A delta the server offers: the blob `sha256` turns artifact `from` into artifact `to`. */
export interface CachedDelta {
  from: string;
  to: string;
  sha256: string;
  size: number;
  /** The codec's format name (what the offer's `delta.format` says). */
  format: string;
}

/** Why a pair has no delta to offer. */
export type NoDeltaReason =
  /** The delta is not clearly smaller than the full artifact (over `maxRatio` of it): send the full file. */
  | 'not-smaller'
  /** The server does not have `from` as an artifact (a device reporting something unknown). */
  | 'unknown-source'
  /** The target artifact is not in the blob store. */
  | 'unknown-target'
  /** `from` is the target itself. */
  | 'same'
  /** Reading the bundles or encoding failed; tried again after `retryAfterMs`. */
  | 'failed';

export type DeltaDecision = { kind: 'delta'; delta: CachedDelta } | { kind: 'none'; reason: NoDeltaReason };

export interface DeltaCacheStats {
  /** Deltas encoded by this process (a concurrent burst of requests for one pair counts once). */
  computed: number;
  /** Answers read from the artifact_deltas table (computed earlier, or by another process). */
  loaded: number;
  /** Encodings that failed. */
  failed: number;
}

export interface DeltaCache {
  /**
   * From memory only: the delta, null for "no delta" (remembered), undefined when this process does not
   * know yet. The poll path calls this first so a warm cache costs no promise, query or computation.
   */
  peek(from: string, to: string): CachedDelta | null | undefined;
  /** The decision for a pair: memory, else the table, else computed now (once per pair, however many ask). */
  decide(from: string, to: string): Promise<DeltaDecision>;
  /** `decide`, reduced to what an offer needs. */
  deltaFor(from: string, to: string): Promise<CachedDelta | null>;
  /** Forgets what memory holds (tests; a process that must re-read the table). */
  clear(): void;
  readonly stats: Readonly<DeltaCacheStats>;
}

export interface DeltaCacheOptions {
  db: Database;
  blobs: BlobStore;
  codec: DeltaCodec;
  /**
   * A delta is offered only when its size is at most this share of the full artifact (0.8: a device saves
   * at least a fifth of the bytes, else the extra work and risk of applying a delta are not worth it).
   */
  maxRatio: number;
  logger?: Logger;
  /** Pairs remembered in memory at most; past it the memory starts over (the table still answers). */
  maxEntries?: number;
  /** How long a transient "no" (unknown source, failed encoding) is remembered before it is tried again. */
  retryAfterMs?: number;
  /**
   * How long a stored delta is remembered before the table is read again (default an hour): its blob may be
   * pruned once no device can be offered it (pruneDeltas, a day by default), and a rollback can make its
   * target current again.
   */
  rememberDeltaMs?: number;
  now?: () => number;
}

/** What an `artifact_deltas` row stores for a pair whose delta is not worth offering (no blob is kept). */
export const NOT_SMALLER_MARKER = '';

export const DEFAULT_MAX_DELTA_RATIO = 0.8;

interface Remembered {
  decision: DeltaDecision;
  /** Infinity for answers that cannot change (a stored "not smaller", the same artifact). */
  until: number;
}

const pairKey = (from: string, to: string) => `${from}:${to}`;

/**
 * The server's deltas between artifacts. A pair is answered from memory when this process has seen it, else
 * from the `artifact_deltas` table (filled by any server or worker), else computed on this request: both
 * bundles read from the blob store, encoded by the codec (in a cpu thread, see delta-codec.ts), the delta
 * stored as a `delta` blob and the row inserted. Concurrent requests for one pair in this process share one
 * computation; across processes the delta is content-addressed and the row inserted with ON CONFLICT DO
 * NOTHING, so two processes racing store the same thing and both answer from the row that won.
 */
export function createDeltaCache(options: DeltaCacheOptions): DeltaCache {
  const { db, blobs, codec } = options;
  const logger = options.logger ?? pino({ enabled: false });
  const maxEntries = options.maxEntries ?? 20_000;
  const retryAfterMs = options.retryAfterMs ?? 60_000;
  const rememberDeltaMs = options.rememberDeltaMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  const memory = new Map<string, Remembered>();
  const pending = new Map<string, Promise<DeltaDecision>>();
  const stats: DeltaCacheStats = { computed: 0, loaded: 0, failed: 0 };

  function remember(from: string, to: string, decision: DeltaDecision, final: boolean): DeltaDecision {
    if (memory.size >= maxEntries) memory.clear();
    const until = !final ? now() + retryAfterMs : decision.kind === 'delta' ? now() + rememberDeltaMs : Infinity;
    memory.set(pairKey(from, to), { decision, until });
    return decision;
  }

  function recalled(from: string, to: string): DeltaDecision | undefined {
    const known = memory.get(pairKey(from, to));
    if (known === undefined) return undefined;
    if (known.until <= now()) {
      memory.delete(pairKey(from, to));
      return undefined;
    }
    return known.decision;
  }

  const offered = (from: string, to: string, sha256: string, size: number): DeltaDecision => ({
    kind: 'delta',
    delta: { from, to, sha256, size, format: codec.format },
  });

  /** The stored answer for a pair, or undefined when there is none usable (absent, older format, blob gone). */
  async function fromTable(from: string, to: string, targetSize: number): Promise<DeltaDecision | undefined> {
    const row = await db.prisma.artifactDelta.findUnique({
      where: { fromSha256_toSha256: { fromSha256: from, toSha256: to } },
    });
    if (row === null || row.formatVersion !== codec.formatVersion) return undefined;
    if (row.deltaBytes > options.maxRatio * targetSize) {
      stats.loaded += 1;
      return { kind: 'none', reason: 'not-smaller' };
    }
    // Stored as "not smaller" under a stricter threshold than today's: computed again (its blob was not kept).
    if (row.deltaSha256 === NOT_SMALLER_MARKER) return undefined;
    if (!(await blobs.exists(row.deltaSha256))) return undefined;
    stats.loaded += 1;
    return offered(from, to, row.deltaSha256, row.deltaBytes);
  }

  async function compute(from: string, to: string): Promise<DeltaDecision> {
    if (from === to) return remember(from, to, { kind: 'none', reason: 'same' }, true);
    const [source, target] = await Promise.all([
      db.prisma.blob.findUnique({ where: { sha256: from }, select: { kind: true } }),
      blobs.stat(to),
    ]);
    if (target === undefined) return remember(from, to, { kind: 'none', reason: 'unknown-target' }, false);
    if (source?.kind !== 'artifact' || !(await blobs.exists(from)))
      return remember(from, to, { kind: 'none', reason: 'unknown-source' }, false);

    const stored = await fromTable(from, to, target.size);
    if (stored !== undefined) return remember(from, to, stored, true);

    let delta: Uint8Array;
    const started = now();
    try {
      const [oldBundle, newBundle] = await Promise.all([readBlobBytes(blobs, from), readBlobBytes(blobs, to)]);
      stats.computed += 1;
      delta = await codec.encode(oldBundle, newBundle);
    } catch (error) {
      stats.failed += 1;
      logger.warn(
        { err: error, from, to, code: isModelFleetError(error) ? error.code : undefined },
        'delta could not be computed; offering the full artifact',
      );
      return remember(from, to, { kind: 'none', reason: 'failed' }, false);
    }
    const worthIt = delta.length <= options.maxRatio * target.size;
    let deltaSha256 = NOT_SMALLER_MARKER;
    if (worthIt) {
      const put = await blobs.put(delta);
      deltaSha256 = put.sha256;
      await db.prisma.blob.createMany({
        data: [{ sha256: put.sha256, size: put.size, kind: 'delta' }],
        skipDuplicates: true,
      });
    }
    await db.prisma.artifactDelta.createMany({
      data: [
        {
          fromSha256: from,
          toSha256: to,
          deltaSha256,
          deltaBytes: delta.length,
          formatVersion: codec.formatVersion,
        },
      ],
      skipDuplicates: true,
    });
    // A row of an older format, or a "not smaller" this threshold now accepts, is replaced.
    await db.prisma.artifactDelta.updateMany({
      where: {
        fromSha256: from,
        toSha256: to,
        OR: [
          { formatVersion: { not: codec.formatVersion } },
          ...(worthIt ? [{ deltaSha256: NOT_SMALLER_MARKER }] : []),
        ],
      },
      data: { deltaSha256, deltaBytes: delta.length, formatVersion: codec.formatVersion },
    });
    logger.info(
      {
        from,
        to,
        deltaBytes: delta.length,
        fullBytes: target.size,
        ratio: Math.round((delta.length / target.size) * 10_000) / 10_000,
        offered: worthIt,
        ms: now() - started,
      },
      'delta computed',
    );
    // Answer from the row that won (another process may have inserted first).
    const settled = await fromTable(from, to, target.size);
    return remember(
      from,
      to,
      settled ?? (worthIt ? offered(from, to, deltaSha256, delta.length) : { kind: 'none', reason: 'not-smaller' }),
      true,
    );
  }

  function decide(from: string, to: string): Promise<DeltaDecision> {
    const known = recalled(from, to);
    if (known !== undefined) return Promise.resolve(known);
    const key = pairKey(from, to);
    let running = pending.get(key);
    if (running === undefined) {
      running = compute(from, to)
        .catch((error: unknown) => {
          stats.failed += 1;
          logger.warn({ err: error, from, to }, 'delta lookup failed; offering the full artifact');
          return remember(from, to, { kind: 'none', reason: 'failed' }, false);
        })
        .finally(() => pending.delete(key));
      pending.set(key, running);
    }
    return running;
  }

  return {
    peek(from, to) {
      const known = recalled(from, to);
      if (known === undefined) return undefined;
      return known.kind === 'delta' ? known.delta : null;
    },
    decide,
    async deltaFor(from, to) {
      const decision = await decide(from, to);
      return decision.kind === 'delta' ? decision.delta : null;
    },
    clear() {
      memory.clear();
    },
    stats,
  };
}
