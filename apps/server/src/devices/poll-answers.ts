import { createHash } from 'node:crypto';
import { SIGNED_KINDS, type UpdateAnswer, type UpdateOffer } from '@modelfleet/contracts';
import { signEnvelope, type SigningKey } from '@modelfleet/signing';
import type { DevicePrincipal } from './principal.js';
import type { ReleaseTargets, TargetRelease } from './targets.js';

/** The delta slot of an offer: a blob that turns the device's current artifact into the target. */
export type DeltaRef = NonNullable<UpdateOffer['delta']>;

/**
 * Where offers get their deltas from. Answers from memory when it can; null when there is no delta worth
 * offering (unknown source artifact, not clearly smaller than the full artifact, a failed computation).
 */
export interface DeltaSource {
  deltaFor(fromSha256: string, target: TargetRelease): DeltaRef | null | Promise<DeltaRef | null>;
}

/** Offers no deltas: every device downloads the full artifact. */
export const NO_DELTAS: DeltaSource = { deltaFor: () => null };

export interface PollAnswerOptions {
  /** Seconds a device is told to wait before its next poll. */
  pollAfterSeconds: number;
  /** Lifetime of a signed offer (a replayed answer stops working after it: freeze attacks end). */
  offerLifetimeSeconds: number;
  now?: () => number;
}

/** What a poll answers when the device has a target release: the ETag, the target, and the signed answer. */
export interface PollAnswer {
  releaseId: string;
  targetSha256: string;
  /** Strong ETag (quoted) derived from the release id and the target sha256. */
  etag: string;
  answer: UpdateAnswer;
}

export interface PollCounts {
  /** Polls answered 200 (an offer), 304 (runs the target already) and 204 (no release). */
  offered: number;
  notModified: number;
  noRelease: number;
}

export interface PollAnswers {
  /**
   * The answer for this device, or null when it has no target release. `current` is the sha256 of the
   * artifact it runs, used to find a delta; a device that runs the target gets the target's plain answer.
   */
  forDevice(device: DevicePrincipal, current?: string): Promise<PollAnswer | null>;
  /** Forgets cached targets (one channel, or all): a release was published or a rollout changed here. */
  releasePublished(channelId?: string): void;
  /** Counts the outcome of a poll (for /metrics). */
  count(outcome: keyof PollCounts): void;
  readonly counts: Readonly<PollCounts>;
  /** Times an offer was signed (tests and the benchmark check that polls do not sign). */
  readonly signatures: number;
}

interface CachedOffer {
  answer: PollAnswer;
  /** When to sign again: half the offer's lifetime after it was signed. */
  refreshAt: number;
}

export function etagFor(releaseId: string, targetSha256: string): string {
  return `"${createHash('sha256').update(`${releaseId}:${targetSha256}`).digest('base64url').slice(0, 27)}"`;
}

/** Signed offers kept at most; past it the cache starts over (a fleet has few releases and deltas in use). */
const MAX_CACHED_OFFERS = 10_000;

/**
 * The answers devices poll for. Which release a device gets is decided by `targets` (the channel's latest
 * release, or a rollout's choice); the delta slot by `deltas`. The signed offer is cached per release and
 * delta and re-signed only when less than half its lifetime remains, so a poll costs neither a query nor a
 * signature when nothing changed, and every answer a device gets stays valid for at least half the lifetime.
 */
export function createPollAnswers(
  targets: ReleaseTargets,
  key: SigningKey,
  options: PollAnswerOptions,
  deltas: DeltaSource = NO_DELTAS,
): PollAnswers {
  const now = options.now ?? Date.now;
  const offers = new Map<string, CachedOffer>();
  const counts: PollCounts = { offered: 0, notModified: 0, noRelease: 0 };
  let signatures = 0;

  function sign(release: TargetRelease, delta: DeltaRef | null): CachedOffer {
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
      delta,
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

  function answerFor(release: TargetRelease, delta: DeltaRef | null): PollAnswer {
    const cacheKey = delta === null ? release.id : `${release.id}:${delta.from}:${delta.sha256}`;
    let cached = offers.get(cacheKey);
    if (cached === undefined || cached.refreshAt <= now()) {
      if (cached === undefined && offers.size >= MAX_CACHED_OFFERS) offers.clear();
      cached = sign(release, delta);
      offers.set(cacheKey, cached);
    }
    return cached.answer;
  }

  return {
    async forDevice(device, current) {
      const found = targets.targetFor(device);
      const release = found instanceof Promise ? await found : found;
      if (release === null) return null;
      if (current === undefined || current === release.artifactSha256) return answerFor(release, null);
      const foundDelta = deltas.deltaFor(current, release);
      return answerFor(release, foundDelta instanceof Promise ? await foundDelta : foundDelta);
    },
    releasePublished(channelId) {
      targets.invalidate(channelId);
    },
    count(outcome) {
      counts[outcome] += 1;
    },
    get counts() {
      return counts;
    },
    get signatures() {
      return signatures;
    },
  };
}
