import { createHash } from 'node:crypto';
import { SIGNED_KINDS, type ReleaseManifest, type UpdateAnswer, type UpdateOffer } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import { signEnvelope, type SigningKey } from '@modelfleet/signing';

export interface PollAnswerOptions {
  /** How long the latest release of a channel is trusted; bounds staleness after a publish elsewhere. */
  releaseTtlMs: number;
  /** Seconds a device is told to wait before its next poll. */
  pollAfterSeconds: number;
  /** Lifetime of a signed offer (a replayed answer stops working after it: freeze attacks end). */
  offerLifetimeSeconds: number;
  now?: () => number;
}

/** What a poll answers when the channel has a release: the ETag, the target, and the signed answer. */
export interface PollAnswer {
  releaseId: string;
  targetSha256: string;
  /** Strong ETag (quoted) derived from the release id and the target sha256. */
  etag: string;
  answer: UpdateAnswer;
}

export interface PollAnswers {
  /** The answer for a device of this channel, or null when the channel has no release yet. */
  forChannel(channelId: string): Promise<PollAnswer | null>;
  /** Forgets cached latest releases (one channel, or all): a release was published in this process. */
  releasePublished(channelId?: string): void;
  /** Times an offer was signed (tests and the benchmark check that polls do not sign). */
  readonly signatures: number;
}

interface LatestRelease {
  id: string;
  number: number;
  artifactSha256: string;
  manifest: ReleaseManifest;
  signature: string;
  keyId: string;
}

interface CachedLatest {
  release: LatestRelease | null;
  expiresAt: number;
}

interface CachedOffer {
  answer: PollAnswer;
  /** When to sign again: half the offer's lifetime after it was signed. */
  refreshAt: number;
}

export function etagFor(releaseId: string, targetSha256: string): string {
  return `"${createHash('sha256').update(`${releaseId}:${targetSha256}`).digest('base64url').slice(0, 27)}"`;
}

/**
 * The answers devices poll for, cached in two layers so that a poll costs neither a query nor a signature
 * when nothing changed: the latest release per channel (short TTL, evicted on publish in this process;
 * releases are also published by workers, so the TTL bounds how stale another process's view can be),
 * and the signed offer per release (re-signed only when less than half its lifetime remains, so every
 * answer a device gets stays valid for at least half the lifetime).
 */
export function createPollAnswers(db: Database, key: SigningKey, options: PollAnswerOptions): PollAnswers {
  const now = options.now ?? Date.now;
  const latestByChannel = new Map<string, CachedLatest>();
  const loading = new Map<string, Promise<LatestRelease | null>>();
  const offers = new Map<string, CachedOffer>();
  let signatures = 0;
  /** Bumped on every eviction so a query that started before a publish cannot cache the old answer. */
  let generation = 0;

  async function loadLatest(channelId: string): Promise<LatestRelease | null> {
    const started = generation;
    const row = await db.prisma.release.findFirst({
      where: { channelId },
      orderBy: { number: 'desc' },
      select: { id: true, number: true, artifactSha256: true, manifest: true, signature: true, keyId: true },
    });
    const release = row === null ? null : { ...row, manifest: row.manifest as unknown as ReleaseManifest };
    if (started === generation) latestByChannel.set(channelId, { release, expiresAt: now() + options.releaseTtlMs });
    return release;
  }

  function latest(channelId: string): LatestRelease | null | Promise<LatestRelease | null> {
    const cached = latestByChannel.get(channelId);
    if (cached !== undefined && cached.expiresAt > now()) return cached.release;
    let pending = loading.get(channelId);
    if (pending === undefined) {
      pending = loadLatest(channelId).finally(() => loading.delete(channelId));
      loading.set(channelId, pending);
    }
    return pending;
  }

  function sign(release: LatestRelease): CachedOffer {
    const issued = now();
    const manifest = release.manifest;
    const offer: UpdateOffer = {
      schema: 'modelfleet.update/v1',
      line: manifest.line,
      channel: manifest.channel,
      release: release.number,
      target: {
        sha256: release.artifactSha256,
        size: manifest.artifact.size,
        encoding: manifest.artifact.encoding,
        url: `/v1/blobs/${release.artifactSha256}`,
      },
      delta: null,
      preprocessing: manifest.preprocessing,
      pollAfterSeconds: options.pollAfterSeconds,
      issuedAt: new Date(issued).toISOString(),
      expiresAt: new Date(issued + options.offerLifetimeSeconds * 1000).toISOString(),
    };
    signatures += 1;
    const answer: UpdateAnswer = {
      offer: signEnvelope(SIGNED_KINDS.updateOffer, offer, key),
      releaseManifest: { signed: manifest, signatures: [{ keyId: release.keyId, signature: release.signature }] },
    };
    return {
      answer: {
        releaseId: release.id,
        targetSha256: release.artifactSha256,
        etag: etagFor(release.id, release.artifactSha256),
        answer,
      },
      refreshAt: issued + (options.offerLifetimeSeconds * 1000) / 2,
    };
  }

  function answerFor(release: LatestRelease | null): PollAnswer | null {
    if (release === null) return null;
    let cached = offers.get(release.id);
    if (cached === undefined || cached.refreshAt <= now()) {
      // Offers of releases no longer current are dropped; a channel has one current release.
      if (cached === undefined && offers.size > 10_000) offers.clear();
      cached = sign(release);
      offers.set(release.id, cached);
    }
    return cached.answer;
  }

  return {
    async forChannel(channelId) {
      const release = latest(channelId);
      return answerFor(release instanceof Promise ? await release : release);
    },
    releasePublished(channelId) {
      generation += 1;
      if (channelId === undefined) latestByChannel.clear();
      else latestByChannel.delete(channelId);
    },
    get signatures() {
      return signatures;
    },
  };
}
