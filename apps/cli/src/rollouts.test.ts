import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceInfo, RolloutView } from '@modelfleet/contracts';
import { runCli } from './run.js';
import { progressBar } from './render/rollouts.js';
import { modelLine, release, rolloutView, testContext } from './testing/fixtures.js';
import { startStubApi, STUB_KEY, type StubApi } from './testing/stub-api.js';

describe('modelfleet rollouts and devices', () => {
  let api: StubApi;
  let home: string;
  const id = rolloutView().id;

  beforeAll(async () => {
    api = await startStubApi({ line: modelLine(), release: release() });
  });
  afterAll(async () => {
    await api.app.close();
  });
  beforeEach(async () => {
    if (home !== undefined) await rm(home, { recursive: true, force: true });
    home = await mkdtemp(join(tmpdir(), 'mf-cli-home-'));
    api.calls.length = 0;
    api.rolloutScript = [rolloutView()];
  });

  async function run(argv: string[]) {
    const context = testContext({ homeDir: home, env: { MODELFLEET_SERVER: api.url, MODELFLEET_KEY: STUB_KEY } });
    const code = await runCli(argv, context);
    return { code, stdout: context.stdout.text, stderr: context.stderr.text };
  }

  it('create sends waves, canary, tags and thresholds, and prints the rollout with its wave table', async () => {
    const result = await run([
      'rollouts',
      'create',
      '--line',
      'sorter',
      '--version',
      'ver-1',
      '--canary',
      'pi-1,pi-2',
      '--waves',
      '10,50,100',
      '--tags',
      'hall-3',
      '--max-failures',
      '2',
      '--max-failure-percent',
      '20',
      '--timeout',
      '600',
      '--manual',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(api.calls.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/rollouts',
      body: {
        line: 'sorter',
        version: 'ver-1',
        waves: [{ devices: ['pi-1', 'pi-2'] }, { percent: 10 }, { percent: 50 }, { percent: 100 }],
        tagFilter: ['hall-3'],
        errorThreshold: { count: 2, percent: 20 },
        inProgressTimeoutSeconds: 600,
        autoAdvance: false,
      },
    });
    expect(result.stdout).toContain('rollout started');
    expect(result.stdout).toContain('sorter stable #4');
    expect(result.stdout).toMatch(/1\s+10 %\s+running\s+\[\.{20}\]\s+0 %\s+1\s+0\s+1\s+0\s+0/);
  });

  it('create refuses flags that cannot make a rollout, before any request', async () => {
    for (const argv of [
      ['rollouts', 'create', '--line', 'sorter', '--waves', '10,100'],
      ['rollouts', 'create', '--line', 'sorter', '--release', '3', '--version', 'v', '--waves', '100'],
      ['rollouts', 'create', '--line', 'sorter', '--release', '3', '--waves', '10,50'],
      ['rollouts', 'create', '--line', 'sorter', '--release', '3', '--waves', '0,100'],
    ]) {
      const result = await run(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.stderr).toMatch(/^error MF_ERR_CLI_USAGE: /);
    }
    expect(api.calls).toHaveLength(0);
  });

  it('status --watch redraws until the rollout is finished', async () => {
    const advanced = rolloutView({ currentWave: 1 });
    advanced.waves[0] = { ...advanced.waves[0]!, state: 'succeeded', progress: 1 };
    const done: RolloutView = { ...advanced, state: 'completed', finishedAt: new Date(60_000).toISOString() };
    api.rolloutScript = [rolloutView(), rolloutView(), advanced, done];
    const result = await run(['rollouts', 'status', id.slice(0, 8), '--watch']);
    expect(result.code, result.stderr).toBe(0);
    const blocks = result.stdout.split('\nrollout:').length;
    expect(blocks).toBe(3); // the unchanged second read is not drawn again
    expect(result.stdout).toMatch(/state:\s+completed/);
    expect(result.stdout).toContain(progressBar(1));
    expect(api.calls.filter((call) => call.url === `/v1/rollouts/${id}`)).toHaveLength(4);
  });

  it('status without an id lists rollouts; an unknown prefix is a usage error', async () => {
    const list = await run(['rollouts', 'status', '--state', 'running']);
    expect(list.code).toBe(0);
    expect(api.calls.at(-1)?.url).toBe('/v1/rollouts?state=running');
    expect(list.stdout).toMatch(/0190a8f2\s+sorter\s+stable\s+4\s+running\s+1\/3\s+0\/1\s+0/);
    const unknown = await run(['rollouts', 'status', 'ffff']);
    expect(unknown.code).toBe(2);
  });

  it('pause, resume, abort, approve and rollback post to the action with the reason', async () => {
    for (const [action, state] of [
      ['pause', 'paused'],
      ['resume', 'running'],
      ['abort', 'aborted'],
      ['approve', 'running'],
      ['rollback', 'rolled_back'],
    ] as const) {
      const result = await run(['rollouts', action, id, '--reason', 'night shift']);
      expect(result.code, result.stderr).toBe(0);
      expect(api.calls.at(-1)).toMatchObject({
        method: 'POST',
        url: `/v1/rollouts/${id}/${action}`,
        body: { reason: 'night shift' },
      });
      expect(result.stdout).toMatch(new RegExp(`state:\\s+${state} — night shift`));
    }
  });

  it('devices lists the fleet as a table; pin and unpin', async () => {
    const device: DeviceInfo = {
      deviceId: 'pi-1',
      line: 'sorter',
      channel: 'stable',
      tags: ['hall-3'],
      hardwareClass: null,
      runtime: null,
      release: 4,
      pinnedRelease: 3,
      artifactSha256: 'd'.repeat(64),
      state: 'installed',
      lastError: null,
      smokeLatencyMs: 12.34,
      lastSeenAt: new Date(0).toISOString(),
      enrolledAt: new Date(0).toISOString(),
      revokedAt: null,
    };
    api.devices = [device];
    const list = await run(['devices', '--tag', 'hall-3']);
    expect(list.code, list.stderr).toBe(0);
    expect(api.calls.at(-1)?.url).toBe('/v1/devices?tag=hall-3');
    expect(list.stdout).toMatch(/pi-1\s+sorter\s+stable\s+4\s+3\s+installed\s+12\.3\s+hall-3\s+1970-01-01 00:00:00/);
    const pin = await run(['devices', 'pin', 'pi-1', '3']);
    expect(pin.stdout).toBe('pi-1 pinned to sorter stable #3\n');
    expect(api.calls.at(-1)).toMatchObject({ method: 'PUT', url: '/v1/devices/pi-1/pin', body: { release: 3 } });
    const unpin = await run(['devices', 'unpin', 'pi-1']);
    expect(unpin.stdout).toBe('pi-1 unpinned\n');
    expect(api.calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/v1/devices/pi-1/pin' });
  });

  it('progressBar fills by the fraction and clamps', () => {
    expect(progressBar(0.5, 10)).toBe('[#####.....]  50 %');
    expect(progressBar(2, 4)).toBe('[####] 100 %');
  });
});
