import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { SignatureInvalid } from './errors.js';
import { keyIdOf, type SigningKey } from './keys.js';

/** A signed document: the payload as sent, and ed25519 signatures over its canonical JSON. */
export interface SignedEnvelope<T> {
  signed: T;
  signatures: { keyId: string; signature: string }[];
}

/** Domain separation: a signature made for a manifest can never be replayed as another kind of document. */
function message(kind: string, payload: unknown): Buffer {
  return Buffer.from(`modelfleet:${kind}:v1\n${canonicalJson(payload)}`, 'utf8');
}

export function signEnvelope<T>(kind: string, payload: T, key: SigningKey): SignedEnvelope<T> {
  const signature = cryptoSign(null, message(kind, payload), key.privateKey).toString('base64');
  return { signed: payload, signatures: [{ keyId: key.keyId, signature }] };
}

/**
 * Signatures looked at per envelope. A server signs with one key (two while rotating); without a bound a
 * compromised mirror could send an answer with 100,000 signatures under a trusted key id and keep a
 * device verifying ed25519 signatures for seconds per poll (found by signing-fuzz.test.ts).
 */
export const MAX_SIGNATURES = 16;

/**
 * Verifies that at least one signature on the envelope is a valid signature by one of the trusted keys
 * and returns the payload; anything else throws MF_ERR_SIGNATURE_INVALID. Keys not trusted are ignored,
 * so a server can add a new key before devices pin it.
 */
export function verifyEnvelope<T>(kind: string, envelope: unknown, trustedKeys: readonly KeyObject[]): T {
  if (envelope === null || typeof envelope !== 'object') throw new SignatureInvalid('not an envelope');
  const { signed, signatures } = envelope as Partial<SignedEnvelope<T>>;
  if (signed === undefined || !Array.isArray(signatures) || signatures.length === 0) {
    throw new SignatureInvalid('no signatures');
  }
  if (signatures.length > MAX_SIGNATURES) {
    throw new SignatureInvalid(`more than ${MAX_SIGNATURES} signatures`);
  }
  let bytes: Buffer;
  try {
    bytes = message(kind, signed);
  } catch (error) {
    throw new SignatureInvalid('payload is not canonical JSON', { cause: error });
  }
  const trusted = new Map(trustedKeys.map((key) => [keyIdOf(key), key]));
  for (const entry of signatures) {
    if (entry === null || typeof entry !== 'object') continue;
    const key = typeof entry.keyId === 'string' ? trusted.get(entry.keyId) : undefined;
    if (key === undefined || typeof entry.signature !== 'string') continue;
    const signature = Buffer.from(entry.signature, 'base64');
    if (signature.length === 64 && cryptoVerify(null, bytes, key, signature)) return signed as T;
  }
  throw new SignatureInvalid('no signature by a trusted key');
}
