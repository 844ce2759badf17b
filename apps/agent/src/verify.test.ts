import type { UpdateOffer } from '@modelfleet/contracts';
import { generateSigningKey } from '@modelfleet/signing';
import { describe, expect, it } from 'vitest';
import { UpdateRefused } from './errors.js';
import { signedAnswer, type TestBundle } from './testing/fixtures.js';
import { refusalRuleOf, verifyUpdate, type VerifyContext } from './verify.js';

const key = generateSigningKey();
const other = generateSigningKey();
const bundle: TestBundle = {
  bytes: new Uint8Array(0),
  sha256: 'a'.repeat(64),
  size: 1000,
  preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['a', 'b'] },
};
const now = new Date('2026-11-29T12:00:00Z');
const context: VerifyContext = {
  trustedKeys: [key.publicKey],
  installed: null,
  enrolledFor: { line: 'sorter', channel: 'stable' },
  now,
  clockSkewSeconds: 300,
};

function ruleOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(UpdateRefused.is(error)).toBe(true);
    return refusalRuleOf(error);
  }
  return undefined;
}

describe('verifyUpdate', () => {
  it('accepts a well-signed, consistent, fresh, newer offer', () => {
    const verified = verifyUpdate(signedAnswer({ key, bundle, release: 3, now }), {
      ...context,
      installed: { line: 'sorter', channel: 'stable', release: 2, sha256: 'b'.repeat(64) },
    });
    expect(verified.offer.release).toBe(3);
    expect(verified.manifest.artifact.sha256).toBe(bundle.sha256);
    expect(verified.alreadyInstalled).toBe(false);
  });

  it('refuses a bad signature on the offer or on the release manifest', () => {
    expect(ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 1, now, offerKey: other }), context))).toBe(
      'offer-signature',
    );
    expect(
      ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 1, now, manifestKey: other }), context)),
    ).toBe('manifest-signature');
    // a payload changed after signing
    const answer = signedAnswer({ key, bundle, release: 1, now });
    answer.offer.signed.release = 2;
    answer.releaseManifest.signed.release = 2;
    expect(ruleOf(() => verifyUpdate(answer, context))).toBe('offer-signature');
  });

  it('refuses a lower release than the installed one (rollback attack)', () => {
    const installed = { line: 'sorter', channel: 'stable', release: 5, sha256: 'b'.repeat(64) };
    expect(ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 4, now }), { ...context, installed }))).toBe(
      'rollback',
    );
    expect(ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 5, now }), { ...context, installed }))).toBe(
      'same-release-other-artifact',
    );
    const same = verifyUpdate(signedAnswer({ key, bundle, release: 5, now }), {
      ...context,
      installed: { ...installed, sha256: bundle.sha256 },
    });
    expect(same.alreadyInstalled).toBe(true);
  });

  it('refuses an expired offer (freeze attack), within the documented skew allowance', () => {
    const expiredLongAgo = signedAnswer({ key, bundle, release: 1, now, validForSeconds: -301 });
    expect(ruleOf(() => verifyUpdate(expiredLongAgo, context))).toBe('expired');
    const expiredJustNow = signedAnswer({ key, bundle, release: 1, now, validForSeconds: -299 });
    expect(verifyUpdate(expiredJustNow, context).offer.release).toBe(1);
    expect(ruleOf(() => verifyUpdate(expiredJustNow, { ...context, clockSkewSeconds: 0 }))).toBe('expired');
  });

  it('refuses an offer that disagrees with its release manifest', () => {
    const cases = [
      { tamperOffer: (o: UpdateOffer) => ({ ...o, release: 9 }) },
      {
        tamperOffer: (o: UpdateOffer) => ({
          ...o,
          target: { ...o.target, sha256: 'c'.repeat(64), url: `/v1/blobs/${'c'.repeat(64)}` },
        }),
      },
      { tamperOffer: (o: UpdateOffer) => ({ ...o, target: { ...o.target, size: 999 } }) },
      { tamperOffer: (o: UpdateOffer) => ({ ...o, channel: 'beta' }) },
      { tamperOffer: (o: UpdateOffer) => ({ ...o, target: { ...o.target, url: '/v1/blobs/' + 'd'.repeat(64) } }) },
    ];
    for (const tamper of cases)
      expect(ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 1, now, ...tamper }), context))).toBe(
        'mismatch',
      );
  });

  it('refuses an offer for another line than the device follows, and malformed answers', () => {
    expect(ruleOf(() => verifyUpdate(signedAnswer({ key, bundle, release: 1, now, line: 'other' }), context))).toBe(
      'wrong-line',
    );
    expect(ruleOf(() => verifyUpdate({ offer: {} }, context))).toBe('shape');
    expect(ruleOf(() => verifyUpdate(null, context))).toBe('shape');
  });
});
