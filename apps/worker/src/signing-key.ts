import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateSigningKey, signingKeyFromPem, type SigningKey } from '@modelfleet/signing';
import type { WorkerConfig } from './config.js';

export class SigningKeyMissing extends Error {
  constructor(file: string) {
    super(`no release-signing key: set MODELFLEET_SIGNING_KEY to the server's key, or share ${file} with the server`);
    this.name = 'SigningKeyMissing';
  }
}

/**
 * The server's signing key: from MODELFLEET_SIGNING_KEY, else from the key file the embedded
 * server keeps in the data folder. Never a new one: devices trust only the server's key.
 */
export async function loadWorkerSigningKey(
  config: Pick<WorkerConfig, 'signingKeyPem' | 'dataDir'>,
): Promise<SigningKey> {
  if (config.signingKeyPem !== undefined) return signingKeyFromPem(config.signingKeyPem);
  const file = join(config.dataDir, 'keys', 'signing-key.pem');
  try {
    await access(file);
  } catch {
    throw new SigningKeyMissing(file);
  }
  return (await loadOrCreateSigningKey(file)).key;
}
