import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkReleaseFolder, linkedSha256, type AgentStatus } from '@modelfleet/agent';
import {
  demoBundle,
  nanBundle,
  signedAnswer,
  startFakeDeviceServer,
  type FakeDeviceServer,
  type TestBundle,
} from '@modelfleet/agent/testing';
import { generateSigningKey } from '@modelfleet/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from './support/processes.js';

/**
 * Issue 5, acceptance 2, the answers a correct server never gives: the agent runs as a process (`check`)
 * against a small fake of the device API that serves tampered, old, expired and broken releases signed the
 * way the server signs them. Each is refused (or rolled back) and reported; the device keeps its model.
 */
describe('agent refuses what it must not install', () => {
  const key = generateSigningKey();
  const other = generateSigningKey();
  const good = demoBundle('base');
  const newer = demoBundle('head');
  let fake: FakeDeviceServer;
  let dataDir = '';
  let env: Record<string, string> = {};

  const serve = (bundle: TestBundle, release: number, options: Partial<Parameters<typeof signedAnswer>[0]> = {}) => {
    fake.blobs.set(bundle.sha256, bundle.bytes);
    fake.answer = signedAnswer({ key, bundle, release, ...options });
  };
  const check = async () => {
    fake.reports = [];
    return runAgent(['check'], env);
  };
  const assertStillOnGood = async () => {
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(good.sha256);
    expect((await checkReleaseFolder(path.join(dataDir, 'releases', good.sha256))).release).toBe(5);
  };

  beforeAll(async () => {
    fake = await startFakeDeviceServer();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-agent-refusals-'));
    env = {
      MODELFLEET_AGENT_SERVER: fake.url,
      MODELFLEET_AGENT_DATA_DIR: dataDir,
      MODELFLEET_AGENT_DEVICE_ID: 'pi-refuse',
      MODELFLEET_AGENT_ENROLLMENT_TOKEN: 'mfe_fake',
      MODELFLEET_AGENT_PUBLIC_KEY: key.publicKeyBase64,
    };
    serve(good, 5);
    const first = await check();
    expect(first.code, first.stderr).toBe(10);
    expect(fake.reports.map((report) => report.state)).toEqual(['downloading', 'downloaded', 'installed']);
  }, 120_000);
  afterAll(async () => {
    await fake.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const refusals: [string, () => void][] = [
    ['manifest-signature', () => serve(newer, 6, { manifestKey: other })],
    ['offer-signature', () => serve(newer, 6, { offerKey: other })],
    ['rollback', () => serve(newer, 4)],
    ['expired', () => serve(newer, 6, { validForSeconds: -3600 })],
    [
      'mismatch',
      () =>
        serve(newer, 6, {
          tamperOffer: (offer) => ({ ...offer, target: { ...offer.target, size: offer.target.size + 1 } }),
        }),
    ],
  ];
  for (const [rule, setUp] of refusals) {
    it(`refuses a ${rule} answer (exit 12), reports failed, downloads nothing, keeps its model`, async () => {
      setUp();
      const sent = fake.blobBytesSent;
      const result = await check();
      expect(result.code, result.stderr).toBe(12);
      expect(result.stdout).toContain(rule);
      expect(fake.reports).toHaveLength(1);
      expect(fake.reports[0]).toMatchObject({ state: 'failed', release: fake.answer!.offer.signed.release });
      expect(fake.reports[0]!.error).toContain(rule);
      expect(fake.blobBytesSent).toBe(sent);
      await assertStillOnGood();
      const status = JSON.parse((await runAgent(['status', '--json'], env)).stdout) as AgentStatus;
      expect(status.lastError?.code).toBe('MF_ERR_UPDATE_REFUSED');
      expect(status.current?.release).toBe(5);
    });
  }

  it('rolls back a release that fails its smoke test (exit 11), reports rolled-back with the reason', async () => {
    serve(nanBundle(), 7);
    const result = await check();
    expect(result.code, result.stderr).toBe(11);
    expect(fake.reports.map((report) => report.state)).toEqual(['downloading', 'downloaded', 'rolled-back']);
    expect(fake.reports[2]!.error).toMatch(/NaN/);
    await assertStillOnGood();
    // offered again: nothing is downloaded or reported again
    const again = await check();
    expect(again.code).toBe(0);
    expect(fake.reports).toEqual([]);
  });

  it('the on-install hook runs with the new model path; its failure is reported, not fatal', async () => {
    serve(newer, 8);
    const marker = path.join(dataDir, 'hook.txt');
    const result = await runAgent(['check'], {
      ...env,
      MODELFLEET_AGENT_ON_INSTALL: `echo "$MODELFLEET_MODEL_PATH $MODELFLEET_RELEASE" > ${marker}; exit 3`,
    });
    expect(result.code, result.stderr).toBe(10);
    expect((await fs.readFile(marker, 'utf8')).trim()).toBe(`${path.join(dataDir, 'current', 'model')} 8`);
    expect(fake.reports.at(-1)).toMatchObject({ state: 'installed', release: 8 });
    expect(fake.reports.at(-1)!.error).toMatch(/on-install hook failed: exit 3/);
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(newer.sha256);
  });
});
