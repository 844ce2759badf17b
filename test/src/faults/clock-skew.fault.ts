import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAgent, parseAgentConfig, refusalRuleOf, silentLogger, verifyUpdate } from '@modelfleet/agent';
import type { CreatedEnrollmentToken, Enrolled, PublicKeys, UpdateAnswer } from '@modelfleet/contracts';
import { demoModelDir } from '@modelfleet/demo-models';
import { publicKeyFromBase64 } from '@modelfleet/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { runCli, serverAddress, startServer, type RunningProcess } from '../support/processes.js';
import { adminApi, newAdminKey, type Api } from './support/api.js';

const HOUR_MS = 3600 * 1000;
/** The server signs offers valid for one hour here (DEVICE_OFFER_LIFETIME_SECONDS; the default is 7 days). */
const OFFER_LIFETIME_S = 3600;
/** The agent's default allowance for its own clock being wrong (--clock-skew-seconds). */
const AGENT_SKEW_S = 300;

/**
 * Devices whose clocks are hours off, against the real server and its signed offers. The agent checks only
 * `expiresAt + skew allowance >= its now` (there is no not-before): a clock behind by any amount accepts a
 * fresh offer; a clock ahead is accepted up to the offer lifetime plus the allowance (7 days + 5 min by
 * default; 1 h + 5 min in this test) and refused past it — with a corrected clock the next poll installs.
 * A replayed offer is refused once it is more than the allowance past its expiry by the device's clock.
 */
describe('clock skew on a device', () => {
  let workDir = '';
  let demo: DemoFiles;
  let server: RunningProcess | undefined;
  let address = '';
  let api: Api;
  let enrollmentToken = '';
  let publicKey = '';

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-clock-'));
    demo = await writeDemoFiles(workDir);
    const adminKey = newAdminKey();
    server = startServer({
      MODELFLEET_DATA_DIR: path.join(workDir, 'server'),
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DEVICE_OFFER_LIFETIME_SECONDS: String(OFFER_LIFETIME_S),
    });
    address = await serverAddress(server);
    api = adminApi(() => address, adminKey);
    await api.createLine('clock', demo, { variants: ['theta4'], latencyRuns: 5 });
    expect((await api.uploadDataset('clock', demo.testSet, 'test', 'test')).status).toBe(201);
    const cliEnv = { MODELFLEET_SERVER: address, MODELFLEET_KEY: adminKey, MODELFLEET_CONFIG: path.join(workDir, 'c') };
    const uploaded = await runCli(
      ['upload', demoModelDir('mobilenet-v1-025-64'), '--line', 'clock', '--wait', '--json'],
      cliEnv,
    );
    expect(uploaded.code, uploaded.stderr).toBe(0);
    enrollmentToken = (
      await api.ok<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
        name: 'clock',
        scope: { line: 'clock', channel: 'stable' },
      })
    ).token;
    publicKey = (await api.ok<PublicKeys>('GET', '/v1/keys')).keys[0]!.publicKey;
  }, 300_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fs.rm(workDir, { recursive: true, force: true });
  });

  /** An agent (the agent's own code, in this process) whose clock is `offsetMs` off; the smoke test passes. */
  const agentWithClock = (name: string, clock: { offsetMs: number }) =>
    createAgent({
      config: parseAgentConfig({
        flags: {
          server: address,
          'enrollment-token': enrollmentToken,
          'device-id': name,
          'data-dir': path.join(workDir, 'agents', name),
          'public-key': publicKey,
        },
        env: {},
      }),
      log: silentLogger,
      now: () => new Date(Date.now() + clock.offsetMs),
      smoke: async () => ({ latencyMs: 1, outputShape: [1, demo.classNames.length] }),
    });

  it('accepts a fresh offer with the clock hours behind, or ahead within lifetime + allowance', async () => {
    for (const [name, offsetMs] of [
      ['behind-6h', -6 * HOUR_MS],
      ['behind-30d', -30 * 24 * HOUR_MS],
      ['ahead-62min', 62 * 60 * 1000],
    ] as const) {
      const outcome = await agentWithClock(name, { offsetMs }).checkForUpdate();
      expect(outcome, name).toMatchObject({ kind: 'installed', release: 1 });
    }
  });

  it('refuses as expired with the clock ahead past lifetime + allowance, and installs once the clock is right', async () => {
    const clock = { offsetMs: 2 * HOUR_MS };
    const agent = agentWithClock('ahead-2h', clock);
    const refused = await agent.checkForUpdate();
    expect(refused).toMatchObject({ kind: 'refused', release: 1 });
    expect((refused as { reason: string }).reason).toMatch(/expired: offer expired at/);
    await expect(fs.stat(path.join(workDir, 'agents', 'ahead-2h', 'current'))).rejects.toThrow();

    clock.offsetMs = 0; // NTP caught up: an expired offer is taken for a clock problem, so the next poll retries
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'installed', release: 1 });
  });

  it('refuses a replayed offer once it is more than the allowance past its expiry', async () => {
    const enrolled = await fetch(`${address}/v1/device/enroll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${enrollmentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: 'replay-target' }),
    });
    expect(enrolled.status).toBe(201);
    const { deviceToken } = (await enrolled.json()) as Enrolled;
    const poll = await fetch(`${address}/v1/device/update`, { headers: { authorization: `Bearer ${deviceToken}` } });
    expect(poll.status).toBe(200);
    const answer = (await poll.json()) as UpdateAnswer;
    const expiresAt = Date.parse(answer.offer.signed.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan((OFFER_LIFETIME_S - 120) * 1000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(OFFER_LIFETIME_S * 1000);

    const context = (now: number) => ({
      trustedKeys: [publicKeyFromBase64(publicKey)],
      installed: null,
      enrolledFor: null,
      now: new Date(now),
      clockSkewSeconds: AGENT_SKEW_S,
    });
    expect(verifyUpdate(answer, context(expiresAt + (AGENT_SKEW_S - 1) * 1000)).offer.release).toBe(1);
    let refusal: unknown;
    try {
      verifyUpdate(answer, context(expiresAt + (AGENT_SKEW_S + 1) * 1000));
    } catch (error) {
      refusal = error;
    }
    expect(refusalRuleOf(refusal)).toBe('expired');
  });
});
