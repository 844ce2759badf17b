import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkReleaseFolder, linkedSha256 } from '@modelfleet/agent';
import type { CreatedEnrollmentToken, DeviceList, ModelVersion, PublicKeys, RolloutView } from '@modelfleet/contracts';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { demoModelDir } from '@modelfleet/demo-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { runCli, serverAddress, startAgent, startServer, type RunningProcess } from '../support/processes.js';
import { adminApi, newAdminKey } from './support/api.js';
import { freePort, waitFor } from './support/private-services.js';

const AGENTS = ['pi-1', 'pi-2', 'pi-3', 'pi-4'];

/**
 * The server (on PostgreSQL, in-process jobs) is killed with SIGKILL twice during a rollout of release 1 to
 * four agent daemons: once while the rollout waits for approval after its canary wave, once right after the
 * approval while the second wave's devices are being offered the release. Each time a new server process
 * starts on the same port and database: the rollout is as it was (state, waves, counts), the agents ride out
 * the outage with their backoff, and the rollout completes with every device on release 1, its report
 * recorded and its folder the release's verified artifact.
 */
describe('the server restarted during a rollout', () => {
  let workDir = '';
  let demo: DemoFiles;
  let database: TestDatabase | undefined;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-rollout-'));
    [demo, database] = await Promise.all([writeDemoFiles(workDir), createTestDatabase('postgres')]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await database?.cleanup();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('keeps the rollout state and the devices continue', async () => {
    const t0 = Date.now();
    const step = (what: string) => console.log(`[rollout-restart +${((Date.now() - t0) / 1000).toFixed(0)} s] ${what}`);
    const adminKey = newAdminKey();
    const port = await freePort();
    const start = () => {
      const server = startServer({
        PORT: String(port),
        MODELFLEET_DATA_DIR: path.join(workDir, 'server'),
        MODELFLEET_ADMIN_KEY: adminKey,
        DATABASE_URL: database!.databaseUrl!,
        REDIS_URL: undefined,
        DEVICE_POLL_AFTER_SECONDS: '1',
        DEVICE_RELEASE_CACHE_TTL_MS: '200',
      });
      running.push(server);
      return server;
    };
    let server = start();
    const address = await serverAddress(server);
    const api = adminApi(() => address, adminKey);
    await api.createLine('rollout', demo, { variants: ['theta4'], latencyRuns: 5, autoPublish: false });
    expect((await api.uploadDataset('rollout', demo.testSet, 'test', 'test')).status).toBe(201);
    const cliEnv = { MODELFLEET_SERVER: address, MODELFLEET_KEY: adminKey, MODELFLEET_CONFIG: path.join(workDir, 'c') };
    const uploaded = await runCli(
      ['upload', demoModelDir('mobilenet-v1-025-64'), '--line', 'rollout', '--wait', '--json'],
      cliEnv,
    );
    expect(uploaded.code, uploaded.stderr).toBe(0);
    const version = JSON.parse(uploaded.stdout) as ModelVersion;
    step('version optimized');
    expect(version.releaseNumbers).toEqual([]);

    const enrollment = await api.ok<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
      name: 'rollout',
      scope: { line: 'rollout', channel: 'stable' },
    });
    const keys = await api.ok<PublicKeys>('GET', '/v1/keys');
    const agentDir = (name: string) => path.join(workDir, 'agents', name);
    const agents = new Map(
      AGENTS.map((name) => {
        const agent = startAgent(['run'], {
          MODELFLEET_AGENT_SERVER: address,
          MODELFLEET_AGENT_ENROLLMENT_TOKEN: enrollment.token,
          MODELFLEET_AGENT_PUBLIC_KEY: keys.keys.map((key) => key.publicKey).join(','),
          MODELFLEET_AGENT_DATA_DIR: agentDir(name),
          MODELFLEET_AGENT_DEVICE_ID: name,
          MODELFLEET_AGENT_MIN_POLL_SECONDS: '0.2',
          MODELFLEET_AGENT_POLL_SECONDS: '1',
          MODELFLEET_AGENT_BACKOFF_BASE_SECONDS: '0.2',
          MODELFLEET_AGENT_BACKOFF_CAP_SECONDS: '2',
        });
        running.push(agent);
        return [name, agent] as const;
      }),
    );
    await Promise.all(
      [...agents.values()].map((agent) =>
        agent.waitForLine((line) => line.msg === 'round done' && line.outcome === 'no-release', 60_000),
      ),
    );

    step('agents polling');
    // A canary wave (pi-1), then everyone, advanced by hand.
    const created = await api.ok<RolloutView>('POST', '/v1/rollouts', {
      line: 'rollout',
      version: version.id,
      waves: [{ devices: ['pi-1'] }, { percent: 100 }],
      autoAdvance: false,
    });
    const rolloutUrl = `/v1/rollouts/${created.id}`;
    const awaiting = await waitFor(
      'the canary installed and the rollout awaiting approval',
      async () => {
        const view = await api.ok<RolloutView>('GET', rolloutUrl);
        return view.state === 'awaiting_approval' ? view : undefined;
      },
      120_000,
      200,
    );
    expect(awaiting.waves[0]!.counts.succeeded).toBe(1);

    step('awaiting approval');
    // First kill: while the rollout waits for approval.
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    server = start();
    expect(await serverAddress(server)).toBe(address);
    const afterFirst = await api.ok<RolloutView>('GET', rolloutUrl);
    expect({ ...afterFirst, updatedAt: undefined }).toEqual({ ...awaiting, updatedAt: undefined });
    // The others are not offered the held-back release meanwhile.
    for (const name of AGENTS.slice(1))
      expect(agents.get(name)!.lines.some((line) => line.msg === 'installed')).toBe(false);

    step('restarted once, state intact');
    // Second kill: right after the approval, as the second wave is offered the release.
    await api.ok('POST', `${rolloutUrl}/approve`, {});
    await Promise.race(
      AGENTS.slice(1).map((name) => agents.get(name)!.waitForLine((line) => line.msg === 'update offered', 60_000)),
    );
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    server = start();
    await serverAddress(server);

    step('restarted twice');
    const completed = await waitFor(
      'the rollout completed',
      async () => {
        const view = await api.ok<RolloutView>('GET', rolloutUrl);
        if (view.state === 'paused' || view.state === 'aborted') throw new Error(`rollout ${view.state}`);
        return view.state === 'completed' ? view : undefined;
      },
      180_000,
      250,
    );
    expect(completed.totals).toMatchObject({ members: 4, succeeded: 4, failed: 0, timed_out: 0 });
    const fleet = await waitFor(
      'every report recorded',
      async () => {
        const list = await api.ok<DeviceList>('GET', '/v1/devices?line=rollout');
        return list.items.length === 4 && list.items.every((d) => d.state === 'installed' && d.release === 1)
          ? list
          : undefined;
      },
      30_000,
    );
    for (const device of fleet.items) expect(device.artifactSha256).toBe(completed.artifactSha256);
    for (const name of AGENTS) {
      const sha = await linkedSha256(path.join(agentDir(name), 'current'));
      expect(sha).toBe(completed.artifactSha256);
      expect((await checkReleaseFolder(path.join(agentDir(name), 'releases', sha!))).release).toBe(1);
    }

    for (const agent of agents.values()) await agent.stop('SIGTERM');
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 600_000);
});
