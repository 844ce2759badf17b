import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SigningKeyInvalid } from './errors.js';

export interface SigningKey {
  /** Short, stable name of the public key: the first 16 hex digits of sha256(raw public key). */
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The raw 32-byte ed25519 public key, base64 — what devices pin. */
  publicKeyBase64: string;
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  // The SPKI DER of an ed25519 key is a fixed 12-byte prefix followed by the 32 raw key bytes.
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

function fromPrivateKey(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyInvalid(`expected an ed25519 key, got ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    privateKey,
    publicKey,
    publicKeyBase64: rawPublicKey(publicKey).toString('base64'),
  };
}

export function generateSigningKey(): SigningKey {
  return fromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/** Reads a key given as PKCS#8 PEM text (production configuration: MODELFLEET_SIGNING_KEY). */
export function signingKeyFromPem(pem: string): SigningKey {
  try {
    return fromPrivateKey(createPrivateKey({ key: pem, format: 'pem' }));
  } catch (error) {
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('MF_ERR_')) throw error;
    throw new SigningKeyInvalid(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

export function signingKeyToPem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A public key pinned by a device: the raw 32 bytes, base64. */
export function publicKeyFromBase64(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) throw new SigningKeyInvalid(`an ed25519 public key has 32 bytes, got ${raw.length}`);
  const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
  return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
}

/**
 * The embedded default's key: created on first start in the data folder (mode 0600, written atomically),
 * read back on every later start so releases stay verifiable across restarts.
 */
export async function loadOrCreateSigningKey(file: string): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: signingKeyFromPem(await fs.readFile(file, 'utf8')), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateSigningKey();
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomUUID()}.tmp`;
  const handle = await fs.open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(signingKeyToPem(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // link() fails if another process created the key first; then both use that one.
    await fs.link(temporary, file);
    return { key, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: signingKeyFromPem(await fs.readFile(file, 'utf8')), created: false };
  } finally {
    await fs.rm(temporary, { force: true });
  }
}
