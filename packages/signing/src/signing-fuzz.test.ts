import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, generateSigningKey, signEnvelope, verifyEnvelope, type SignedEnvelope } from './index.js';
import { MAX_SIGNATURES } from './envelope.js';

/**
 * The verifier as a compromised mirror or network sees it: whatever it sends, verifyEnvelope returns a
 * payload only when a trusted key signed exactly that payload (by canonical JSON) for exactly that kind,
 * and otherwise throws MF_ERR_SIGNATURE_INVALID — never another error, never slowly (per-case timeout).
 */

const PER_CASE = { timeout: 2_000, numRuns: 300 };
const trustedKey = generateSigningKey();
const otherKey = generateSigningKey();
const TRUSTED = [trustedKey.publicKey];
const KIND = 'update-offer';

function verdict(kind: string, envelope: unknown): 'accepted' | 'refused' {
  try {
    verifyEnvelope(kind, envelope, TRUSTED);
    return 'accepted';
  } catch (error) {
    expect((error as { code?: string }).code).toBe('MF_ERR_SIGNATURE_INVALID');
    return 'refused';
  }
}

const payload = fc.record({
  schema: fc.constant('modelfleet.update/v1'),
  line: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  release: fc.integer({ min: 1, max: 1_000_000 }),
  target: fc.record({ sha256: fc.stringMatching(/^[0-9a-f]{64}$/), size: fc.nat() }),
  expiresAt: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  extra: fc.jsonValue({ maxDepth: 3 }),
});

/** A change to a JSON value at a random place: a leaf replaced, a member added or removed. */
function mutate(value: unknown, choice: number, replacement: unknown): unknown {
  if (value === null || typeof value !== 'object') return replacement;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0 || choice % 7 === 0) {
    return Array.isArray(value) ? [...value, replacement] : { ...value, [`x${choice}`]: replacement };
  }
  const [key, child] = entries[choice % entries.length]!;
  if (choice % 5 === 0 && !Array.isArray(value)) {
    const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  const next = mutate(child, Math.floor(choice / 3), replacement);
  if (Array.isArray(value)) return value.map((v, i) => (String(i) === key ? next : v));
  return { ...value, [key]: next };
}

describe('verifyEnvelope against a hostile network', () => {
  it('any JSON value, or any object shaped like an envelope: refused with MF_ERR_SIGNATURE_INVALID', async () => {
    const envelopeLike = fc.record({
      signed: fc.jsonValue({ maxDepth: 4 }),
      signatures: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.array(
          fc.record({
            keyId: fc.oneof(fc.constant(trustedKey.keyId), fc.string(), fc.jsonValue({ maxDepth: 1 })),
            signature: fc.oneof(fc.base64String({ maxLength: 120 }), fc.jsonValue({ maxDepth: 1 })),
          }),
          { maxLength: 4 },
        ),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), envelopeLike), async (envelope) => {
        expect(verdict(KIND, envelope)).toBe('refused');
      }),
      PER_CASE,
    );
  });

  it('a signed payload changed anywhere is refused; only a change that keeps its canonical JSON is accepted', async () => {
    await fc.assert(
      fc.asyncProperty(payload, fc.nat(), fc.jsonValue({ maxDepth: 2 }), async (signed, choice, replacement) => {
        const envelope = signEnvelope(KIND, signed, trustedKey);
        expect(verdict(KIND, envelope)).toBe('accepted');
        const changed = mutate(JSON.parse(JSON.stringify(signed)), choice, replacement);
        const same = canonicalJson(changed) === canonicalJson(signed);
        expect(verdict(KIND, { ...envelope, signed: changed })).toBe(same ? 'accepted' : 'refused');
        // The same bytes re-serialised in any key order or spacing still verify (canonical JSON).
        expect(verdict(KIND, JSON.parse(JSON.stringify(envelope, null, 2)))).toBe('accepted');
      }),
      PER_CASE,
    );
  });

  it('a signature for another kind, by an untrusted key, or with any byte changed is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.nat(63),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('release-manifest', 'update-offer ', ''),
        async (signed, at, xor, otherKind) => {
          const envelope = signEnvelope(KIND, signed, trustedKey);
          expect(verdict(otherKind, envelope)).toBe('refused');
          expect(verdict(KIND, signEnvelope(KIND, signed, otherKey))).toBe('refused');
          // An untrusted key's signature relabelled with the trusted key id.
          const relabelled = signEnvelope(KIND, signed, otherKey);
          relabelled.signatures[0]!.keyId = trustedKey.keyId;
          expect(verdict(KIND, relabelled)).toBe('refused');
          const bytes = Buffer.from(envelope.signatures[0]!.signature, 'base64');
          bytes[at] = bytes[at]! ^ xor;
          const flipped = {
            ...envelope,
            signatures: [{ keyId: trustedKey.keyId, signature: bytes.toString('base64') }],
          };
          expect(verdict(KIND, flipped)).toBe('refused');
        },
      ),
      PER_CASE,
    );
  });

  it('payloads nested past the canonical bound, or holding non-JSON numbers, are refused, not thrown through', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    const envelope = { signed: deep, signatures: [{ keyId: trustedKey.keyId, signature: 'AAAA' }] };
    expect(verdict(KIND, envelope)).toBe('refused');
    expect(
      verdict(KIND, {
        signed: { a: Number.POSITIVE_INFINITY },
        signatures: [{ keyId: trustedKey.keyId, signature: 'AAAA' }],
      }),
    ).toBe('refused');
  });

  // Found by this file: without a bound, 100,000 signatures under the trusted key id cost 100,000 ed25519
  // verifications (seconds of a device's CPU per poll answer from a compromised mirror).
  it(`refuses an envelope with more than ${MAX_SIGNATURES} signatures without verifying them`, () => {
    const envelope = signEnvelope(KIND, { release: 1 }, trustedKey);
    const bogus = { keyId: trustedKey.keyId, signature: Buffer.alloc(64, 1).toString('base64') };
    const flood: SignedEnvelope<unknown> = {
      ...envelope,
      signatures: [...Array(100_000).fill(bogus), ...envelope.signatures],
    };
    expect(verdict(KIND, flood)).toBe('refused');
    // Within the bound, the valid signature is still found after untrusted ones.
    const mixed = signEnvelope(KIND, { release: 1 }, otherKey).signatures;
    expect(verdict(KIND, { ...envelope, signatures: [...mixed, ...envelope.signatures] })).toBe('accepted');
    expect(verdict(KIND, { ...envelope, signatures: [bogus, ...envelope.signatures] })).toBe('accepted');
    expect(verdict(KIND, { ...envelope, signatures: Array(MAX_SIGNATURES).fill(bogus) })).toBe('refused');
  });
});
