import fc from 'fast-check';
import type { UpdateAnswer } from '@modelfleet/contracts';
import { canonicalJson, generateSigningKey } from '@modelfleet/signing';
import { describe, expect, it } from 'vitest';
import { UpdateRefused } from './errors.js';
import { signedAnswer, type TestBundle } from './testing/fixtures.js';
import { refusalRuleOf, verifyUpdate, type InstalledRelease, type VerifyContext } from './verify.js';

/**
 * The device's check of a poll answer, against what a compromised mirror or network can send: answers
 * mixed from several genuine ones (an old offer with a new manifest, another line's offer), replayed
 * after expiry, edited anywhere, or not answers at all. Whatever arrives, verifyUpdate either refuses it
 * with MF_ERR_UPDATE_REFUSED and a named rule, or accepts an answer that a trusted key signed, that is
 * consistent, unexpired, for the device's own line and channel, and not older than what it runs.
 */

const PER_CASE = { timeout: 2_000, numRuns: 250 };
const key = generateSigningKey();
const stranger = generateSigningKey();
const NOW = new Date('2026-11-29T12:00:00Z');
const SKEW_SECONDS = 300;
const RULES = [
  'shape',
  'offer-signature',
  'manifest-signature',
  'mismatch',
  'wrong-line',
  'rollback',
  'expired',
  'same-release-other-artifact',
];

function decide(answer: unknown, context: VerifyContext): { accepted: ReturnType<typeof verifyUpdate> } | string {
  try {
    return { accepted: verifyUpdate(answer, context) };
  } catch (error) {
    if (!UpdateRefused.is(error)) throw error;
    const rule = refusalRuleOf(error);
    expect(RULES).toContain(rule);
    return rule!;
  }
}

const sha = fc.constantFrom('a', 'b', 'c').map((c) => c.repeat(64));
const line = fc.constantFrom('sorter', 'counter');
const channel = fc.constantFrom('stable', 'canary');
const genuine = fc.record({
  line,
  channel,
  release: fc.integer({ min: 1, max: 6 }),
  sha256: sha,
  size: fc.constantFrom(1000, 2000),
  /**
   * Seconds from NOW the offer was issued (negative: in the past). Mostly within minutes of NOW, so that
   * enough answers are fresh for the accepted side to be exercised; the rest anywhere in the last month.
   */
  issuedOffset: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: -600, max: 600 }) },
    { weight: 1, arbitrary: fc.integer({ min: -30 * 24 * 3600, max: 3600 }) },
  ),
  validForSeconds: fc.constantFrom(60, 3600, 7 * 24 * 3600),
  signer: fc.constantFrom(key, key, key, stranger),
});
type Genuine = typeof genuine extends fc.Arbitrary<infer T> ? T : never;

function answerOf(g: Genuine): UpdateAnswer {
  const bundle: TestBundle = {
    bytes: new Uint8Array(0),
    sha256: g.sha256,
    size: g.size,
    preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['a', 'b'] },
  };
  return signedAnswer({
    key: g.signer,
    bundle,
    release: g.release,
    line: g.line,
    channel: g.channel,
    now: new Date(NOW.getTime() + g.issuedOffset * 1000),
    validForSeconds: g.validForSeconds,
  });
}

const installed: fc.Arbitrary<InstalledRelease | null> = fc.option(
  fc.record({ line, channel, release: fc.integer({ min: 1, max: 6 }), sha256: sha }),
);
const context = fc.record({
  installed,
  enrolledFor: fc.option(fc.record({ line, channel })),
});

/** What any accepted answer must satisfy, whatever it was assembled from. */
function assertSafe(verified: ReturnType<typeof verifyUpdate>, ctx: VerifyContext): void {
  const { offer, manifest } = verified;
  expect(offer.line).toBe(manifest.line);
  expect(offer.channel).toBe(manifest.channel);
  expect(offer.release).toBe(manifest.release);
  expect(offer.target.sha256).toBe(manifest.artifact.sha256);
  expect(offer.target.size).toBe(manifest.artifact.size);
  expect(offer.target.url.endsWith(`/v1/blobs/${offer.target.sha256}`)).toBe(true);
  expect(Date.parse(offer.expiresAt) + ctx.clockSkewSeconds * 1000).toBeGreaterThanOrEqual(ctx.now.getTime());
  const pinned = ctx.enrolledFor ?? ctx.installed;
  if (pinned !== null) expect([offer.line, offer.channel]).toEqual([pinned.line, pinned.channel]);
  const current = ctx.installed;
  if (current !== null && current.line === offer.line && current.channel === offer.channel) {
    expect(offer.release).toBeGreaterThanOrEqual(current.release);
    if (offer.release === current.release) {
      expect(offer.target.sha256).toBe(current.sha256);
      expect(verified.alreadyInstalled).toBe(true);
    } else expect(verified.alreadyInstalled).toBe(false);
  }
}

function mutate(value: unknown, choice: number, replacement: unknown): unknown {
  if (value === null || typeof value !== 'object') return replacement;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0 || choice % 9 === 0) {
    return Array.isArray(value) ? [...value, replacement] : { ...value, [`x${choice % 3}`]: replacement };
  }
  const [k, child] = entries[choice % entries.length]!;
  if (choice % 7 === 0 && !Array.isArray(value)) {
    const { [k]: _dropped, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  const next = mutate(child, Math.floor(choice / 3), replacement);
  return Array.isArray(value) ? value.map((v, i) => (String(i) === k ? next : v)) : { ...value, [k]: next };
}

describe('verifyUpdate against a compromised mirror or network', () => {
  it('answers assembled from genuine parts (mixed offers and manifests, other lines, replays, strangers): only safe ones pass', async () => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(genuine, genuine, context, fc.boolean(), async (first, second, ctx, mix) => {
        const a = answerOf(first);
        const answer = mix ? { offer: a.offer, releaseManifest: answerOf(second).releaseManifest } : a;
        const full: VerifyContext = { ...ctx, trustedKeys: [key.publicKey], now: NOW, clockSkewSeconds: SKEW_SECONDS };
        const outcome = decide(answer, full);
        seen[typeof outcome === 'string' ? 'refused' : 'accepted'] += 1;
        if (typeof outcome !== 'string') assertSafe(outcome.accepted, full);
        if (first.signer === stranger) expect(outcome).toBe('offer-signature');
      }),
      { ...PER_CASE, numRuns: 600 },
    );
    // Both sides of the decision were exercised (not a property that holds because nothing passes).
    expect(seen.accepted).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(10);
  }, 60_000);

  it('a genuine answer edited anywhere is refused with a rule, unless the edit left the signed bytes as they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        genuine.map((g) => ({ ...g, signer: key, issuedOffset: 0 })),
        fc.nat(),
        fc.jsonValue({ maxDepth: 2 }),
        async (g, choice, replacement) => {
          const answer = answerOf(g);
          const edited = mutate(JSON.parse(JSON.stringify(answer)), choice, replacement) as UpdateAnswer;
          const ctx: VerifyContext = {
            trustedKeys: [key.publicKey],
            installed: null,
            enrolledFor: null,
            now: NOW,
            clockSkewSeconds: SKEW_SECONDS,
          };
          const outcome = decide(edited, ctx);
          if (typeof outcome === 'string') return;
          // Accepted: what was verified is exactly what the server signed.
          expect(canonicalJson(outcome.accepted.offer)).toBe(canonicalJson(answer.offer.signed));
          expect(canonicalJson(outcome.accepted.manifest)).toBe(canonicalJson(answer.releaseManifest.signed));
        },
      ),
      { ...PER_CASE, numRuns: 600 },
    );
  }, 60_000);

  it('anything that is not an answer is refused as shape, never thrown through', async () => {
    const ctx: VerifyContext = {
      trustedKeys: [key.publicKey],
      installed: null,
      enrolledFor: null,
      now: NOW,
      clockSkewSeconds: SKEW_SECONDS,
    };
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        expect(decide(value, ctx)).toBe('shape');
      }),
      PER_CASE,
    );
  });
});
