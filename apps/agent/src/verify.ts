/**
 * What the agent checks before it acts on a poll answer (issue 5, "Verification before anything is installed").
 * Each rule throws MF_ERR_UPDATE_REFUSED with `details.rule`, so reports and tests name the rule that failed.
 */
import type { KeyObject } from 'node:crypto';
import { ReleaseManifest, SIGNED_KINDS, UpdateAnswer, UpdateOffer } from '@modelfleet/contracts';
import { verifyEnvelope } from '@modelfleet/signing';
import { Value } from 'typebox/value';
import { UpdateRefused } from './errors.js';

export type RefusalRule =
  | 'shape'
  | 'offer-signature'
  | 'manifest-signature'
  | 'mismatch'
  | 'wrong-line'
  | 'rollback'
  | 'expired'
  | 'same-release-other-artifact';

export interface InstalledRelease {
  line: string;
  channel: string;
  release: number;
  sha256: string;
}

export interface VerifyContext {
  trustedKeys: readonly KeyObject[];
  /** What the device runs now (null: no model yet). */
  installed: InstalledRelease | null;
  /** Line and channel the device was enrolled for, when known. */
  enrolledFor: { line: string; channel: string } | null;
  now: Date;
  clockSkewSeconds: number;
}

export interface VerifiedUpdate {
  /** The answer as received (its shape checked), for storing the signed manifest with the release. */
  answer: UpdateAnswer;
  offer: UpdateOffer;
  manifest: ReleaseManifest;
  /** True when the offer names what the device already runs. */
  alreadyInstalled: boolean;
}

function refuse(rule: RefusalRule, message: string): never {
  throw new UpdateRefused(`${rule}: ${message}`, { details: { rule } });
}

export function refusalRuleOf(error: unknown): RefusalRule | undefined {
  return UpdateRefused.is(error) ? (error.details?.rule as RefusalRule | undefined) : undefined;
}

export function verifyUpdate(answer: unknown, context: VerifyContext): VerifiedUpdate {
  if (!Value.Check(UpdateAnswer, answer)) refuse('shape', 'the answer is not an UpdateAnswer');
  let offer: UpdateOffer;
  let manifest: ReleaseManifest;
  try {
    offer = verifyEnvelope<UpdateOffer>(SIGNED_KINDS.updateOffer, answer.offer, context.trustedKeys);
  } catch (error) {
    refuse('offer-signature', (error as Error).message);
  }
  try {
    manifest = verifyEnvelope<ReleaseManifest>(
      SIGNED_KINDS.releaseManifest,
      answer.releaseManifest,
      context.trustedKeys,
    );
  } catch (error) {
    refuse('manifest-signature', (error as Error).message);
  }
  // Shapes were checked on the envelope above; the signed payloads are those very objects.
  if (!Value.Check(UpdateOffer, offer) || !Value.Check(ReleaseManifest, manifest))
    refuse('shape', 'signed payload has the wrong shape');

  const pairs: [string, unknown, unknown][] = [
    ['line', offer.line, manifest.line],
    ['channel', offer.channel, manifest.channel],
    ['release', offer.release, manifest.release],
    ['sha256', offer.target.sha256, manifest.artifact.sha256],
    ['size', offer.target.size, manifest.artifact.size],
  ];
  for (const [field, inOffer, inManifest] of pairs)
    if (inOffer !== inManifest)
      refuse('mismatch', `offer and release manifest differ in ${field} (${String(inOffer)} vs ${String(inManifest)})`);

  const expectedUrl = `/v1/blobs/${offer.target.sha256}`;
  if (offer.target.url !== expectedUrl && !offer.target.url.endsWith(expectedUrl))
    refuse('mismatch', `target url ${offer.target.url} does not name the artifact`);

  const expiresAt = Date.parse(offer.expiresAt);
  if (!Number.isFinite(expiresAt) || expiresAt + context.clockSkewSeconds * 1000 < context.now.getTime())
    refuse(
      'expired',
      `offer expired at ${offer.expiresAt} (now ${context.now.toISOString()}, skew allowance ${context.clockSkewSeconds} s)`,
    );

  const pinned = context.enrolledFor ?? context.installed;
  if (pinned !== null && (pinned.line !== offer.line || pinned.channel !== offer.channel))
    refuse(
      'wrong-line',
      `offer is for ${offer.line}/${offer.channel}, the device follows ${pinned.line}/${pinned.channel}`,
    );

  const installed = context.installed;
  let alreadyInstalled = false;
  if (installed !== null && installed.line === offer.line && installed.channel === offer.channel) {
    if (offer.release < installed.release)
      refuse('rollback', `release ${offer.release} is lower than the installed ${installed.release}`);
    if (offer.release === installed.release) {
      if (offer.target.sha256 !== installed.sha256)
        refuse(
          'same-release-other-artifact',
          `release ${offer.release} names ${offer.target.sha256}, installed ${installed.sha256}`,
        );
      alreadyInstalled = true;
    }
  }
  return { answer, offer, manifest, alreadyInstalled };
}
