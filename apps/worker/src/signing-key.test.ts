import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, loadOrCreateSigningKey, signingKeyToPem } from '@modelfleet/signing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWorkerSigningKey, SigningKeyMissing } from './signing-key.js';

describe('loadWorkerSigningKey', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mf-worker-key-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('takes the PEM from the configuration', async () => {
    const key = generateSigningKey();
    expect((await loadWorkerSigningKey({ dataDir, signingKeyPem: signingKeyToPem(key) })).keyId).toBe(key.keyId);
  });

  it("reads the server's key file from the shared data folder", async () => {
    await mkdir(join(dataDir, 'keys'));
    const { key } = await loadOrCreateSigningKey(join(dataDir, 'keys', 'signing-key.pem'));
    expect((await loadWorkerSigningKey({ dataDir, signingKeyPem: undefined })).keyId).toBe(key.keyId);
  });

  it('refuses to start without a key rather than make one of its own', async () => {
    await expect(loadWorkerSigningKey({ dataDir, signingKeyPem: undefined })).rejects.toBeInstanceOf(SigningKeyMissing);
  });
});
