import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  generateSigningKey,
  loadOrCreateSigningKey,
  publicKeyFromBase64,
  signEnvelope,
  signingKeyFromPem,
  signingKeyToPem,
  verifyEnvelope,
} from './index.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    // An undefined array slot is null, as JSON.stringify writes it.
    expect(canonicalJson([1, undefined, null])).toBe(JSON.stringify([1, undefined, null]));
  });
  it('refuses values that have no single JSON form', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_CANONICAL_JSON_INVALID' }),
    );
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_CANONICAL_JSON_INVALID' }),
    );
    expect(() => canonicalJson({ a: 1n })).toThrow(expect.objectContaining({ code: 'MF_ERR_CANONICAL_JSON_INVALID' }));
  });
});

describe('signed envelopes', () => {
  const key = generateSigningKey();
  const pinned = publicKeyFromBase64(key.publicKeyBase64);
  const manifest = { line: 'sorter', release: 7, target: { sha256: 'ab'.repeat(32), size: 1234 } };

  it('verifies with the pinned public key, whatever the key order on the wire', () => {
    const envelope = signEnvelope('manifest', manifest, key);
    const reordered = JSON.parse(
      JSON.stringify({
        signatures: envelope.signatures,
        signed: { target: manifest.target, release: 7, line: 'sorter' },
      }),
    );
    expect(verifyEnvelope('manifest', reordered, [pinned])).toEqual(manifest);
  });

  it('refuses a changed payload, another key, another document kind and garbage', () => {
    const envelope = signEnvelope('manifest', manifest, key);
    const tampered = { ...envelope, signed: { ...manifest, release: 8 } };
    const code = expect.objectContaining({ code: 'MF_ERR_SIGNATURE_INVALID' });
    expect(() => verifyEnvelope('manifest', tampered, [pinned])).toThrow(code);
    expect(() => verifyEnvelope('manifest', envelope, [generateSigningKey().publicKey])).toThrow(code);
    expect(() => verifyEnvelope('report', envelope, [pinned])).toThrow(code);
    expect(() => verifyEnvelope('manifest', { signed: manifest, signatures: [] }, [pinned])).toThrow(code);
    expect(() => verifyEnvelope('manifest', 'x', [pinned])).toThrow(code);
    const badSignature = { ...envelope, signatures: [{ keyId: key.keyId, signature: 'AAAA' }] };
    expect(() => verifyEnvelope('manifest', badSignature, [pinned])).toThrow(code);
  });

  it('round-trips the private key through PEM', () => {
    const again = signingKeyFromPem(signingKeyToPem(key));
    expect(again.keyId).toBe(key.keyId);
    expect(again.publicKeyBase64).toBe(key.publicKeyBase64);
    expect(() => signingKeyFromPem('not a key')).toThrow(
      expect.objectContaining({ code: 'MF_ERR_SIGNING_KEY_INVALID' }),
    );
  });
});

describe('loadOrCreateSigningKey', () => {
  it('creates the key once, private to the owner, and reads the same key afterwards', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-keys-'));
    try {
      const file = path.join(dir, 'keys', 'signing-key.pem');
      const results = await Promise.all([loadOrCreateSigningKey(file), loadOrCreateSigningKey(file)]);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(results[0]!.key.keyId).toBe(results[1]!.key.keyId);
      const again = await loadOrCreateSigningKey(file);
      expect(again.created).toBe(false);
      expect(again.key.keyId).toBe(results[0]!.key.keyId);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
      expect((await fs.readdir(path.dirname(file))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
