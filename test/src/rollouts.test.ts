import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreatedEnrollmentToken, DeviceList, PublicKeys, Release, RolloutView } from '@modelfleet/contracts';
import { linkedSha256 } from '@modelfleet/agent';
import { demoBundle, nanBundle, type TestBundle } from '@modelfleet/agent/testing';
import {
  createTestDatabase,
  insertReadyCandidate,
  postgresTestAvailability,
  type TestDatabase,
} from '@modelfleet/db/testing';
import { createFsBlobStore } from '@modelfleet/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAddress, startAgent, startServer, type RunningProcess } from './support/processes.js';

const pgTest = await postgresTestAvailability();

const AGENTS = ['hall-a', 'hall-b', 'hall-c'];
const isInstalled = (release: number) => (line: Record<string, unknown>) =>
  line.msg === 'installed' && line.release === release;

/**
 * Issue 7, acceptance 2: the server and three agents run as processes on loopback. A good release goes out in
 * three waves; a release whose model outputs NaN fails the agents' smoke test, pauses its rollout at the error
 * threshold of the first wave and reaches no other device; rollback republishes the previous artifact under a
 * higher number and every device ends on it. The server runs on PostgreSQL so the test can register the three
 * artifacts as candidates directly (the optimize pipeline is not what this test is about, and it would
 * refuse a model that outputs NaN); everything after that goes through the API, the poll and the agents.
 */
describe.skipIf(!pgTest.available && !pgTest.required)(
  'rollouts with agents as processes',
  { timeout: 900_000 },
  () => {
    let workDir = '';
    let testDb: TestDatabase;
    let server: RunningProcess;
    let address = '';
    const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    const agents = new Map<string, RunningProcess>();
    const bundles = {
      base: demoBundle('base'),
      good: demoBundle('head'),
      bad: nanBundle(),
      next: demoBundle('finetune'),
    };
    const candidates = new Map<TestBundle, string>();

    const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${address}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      expect(response.status, `${method} ${url}: ${text}`).toBeLessThan(300);
      return JSON.parse(text) as T;
    };
    const rollout = (id: string) => api<RolloutView>('GET', `/v1/rollouts/${id}`);
    /** Reads the rollout until `done` says so; every view seen is kept (the test checks the order of waves). */
    const follow = async (id: string, done: (view: RolloutView) => boolean, seen: RolloutView[] = []) => {
      const deadline = Date.now() + 400_000;
      for (;;) {
        const view = await rollout(id);
        seen.push(view);
        if (done(view)) return view;
        if (Date.now() > deadline) throw new Error(`rollout ${id} stuck: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };
    const devices = async () =>
      new Map((await api<DeviceList>('GET', '/v1/devices')).items.map((device) => [device.deviceId, device]));
    const members = async (id: string) =>
      (await api<{ items: { deviceId: string; waveIndex: number }[] }>('GET', `/v1/rollouts/${id}/devices`)).items;
    const agentLines = (name: string) => agents.get(name)!.lines;

    async function registerCandidate(line: string, bundle: TestBundle): Promise<string> {
      const { prisma } = testDb.db;
      const blobs = await createFsBlobStore({ root: path.join(workDir, 'server', 'blobs') });
      const stored = await blobs.put(bundle.bytes);
      const lineRow = await prisma.modelLine.findUniqueOrThrow({ where: { name: line } });
      const candidate = await insertReadyCandidate(prisma, {
        lineId: lineRow.id,
        artifact: stored,
        variant: 'theta0',
        encoding: 'float32',
      });
      return candidate.id;
    }

    beforeAll(async () => {
      workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-rollouts-'));
      testDb = await createTestDatabase('postgres');
      server = startServer({
        MODELFLEET_DATA_DIR: path.join(workDir, 'server'),
        MODELFLEET_ADMIN_KEY: adminKey,
        DATABASE_URL: testDb.databaseUrl,
        REDIS_URL: undefined,
        DEVICE_POLL_AFTER_SECONDS: '1',
        DEVICE_RELEASE_CACHE_TTL_MS: '200',
      });
      address = await serverAddress(server);
      await api('POST', '/v1/models', {
        name: 'sorter',
        preprocessing: bundles.base.preprocessing,
        policy: { autoPublish: false },
      });
      for (const bundle of Object.values(bundles)) candidates.set(bundle, await registerCandidate('sorter', bundle));
      const first = await api<Release>('POST', '/v1/models/sorter/releases', {
        candidateId: candidates.get(bundles.base),
      });
      expect(first.number).toBe(1);
      const enrollment = await api<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
        name: 'hall',
        scope: { line: 'sorter', channel: 'stable', tags: ['line-1'] },
      });
      const keys = (await (await fetch(`${address}/v1/keys`)).json()) as PublicKeys;
      for (const name of AGENTS) {
        const agent = startAgent(['run'], {
          MODELFLEET_AGENT_SERVER: address,
          MODELFLEET_AGENT_ENROLLMENT_TOKEN: enrollment.token,
          MODELFLEET_AGENT_PUBLIC_KEY: keys.keys.map((key) => key.publicKey).join(','),
          MODELFLEET_AGENT_DATA_DIR: path.join(workDir, 'agents', name),
          MODELFLEET_AGENT_DEVICE_ID: name,
          MODELFLEET_AGENT_MIN_POLL_SECONDS: '0.2',
          MODELFLEET_AGENT_POLL_SECONDS: '1',
          MODELFLEET_AGENT_BACKOFF_BASE_SECONDS: '0.2',
          MODELFLEET_AGENT_BACKOFF_CAP_SECONDS: '2',
        });
        agents.set(name, agent);
      }
      await Promise.all([...agents.values()].map((agent) => agent.waitForLine(isInstalled(1), 150_000)));
    }, 240_000);

    afterAll(async () => {
      await Promise.all([...agents.values(), server].filter(Boolean).map((process) => process.stop('SIGKILL')));
      await testDb?.cleanup();
      await fs.rm(workDir, { recursive: true, force: true });
    });

    it('a good release advances wave by wave to all devices', async () => {
      const created = await api<RolloutView>('POST', '/v1/rollouts', {
        line: 'sorter',
        candidateId: candidates.get(bundles.good),
        tagFilter: ['line-1'],
        waves: [{ percent: 33 }, { percent: 66 }, { percent: 100 }],
      });
      expect(created).toMatchObject({ release: 2, state: 'running', targetDevices: 3 });
      const seen: RolloutView[] = [];
      const done = await follow(created.id, (view) => view.state !== 'running', seen);
      expect(done).toMatchObject({ state: 'completed', totals: { members: 3, succeeded: 3 } });
      expect(done.waves.map((wave) => [wave.total, wave.state])).toEqual([
        [1, 'succeeded'],
        [1, 'succeeded'],
        [1, 'succeeded'],
      ]);
      // Wave by wave: the current wave never goes back, and a wave starts only after the one before it succeeded.
      const waves = seen.map((view) => view.currentWave);
      expect(waves).toEqual([...waves].sort());
      for (let i = 1; i < done.waves.length; i++)
        expect(Date.parse(done.waves[i]!.startedAt!)).toBeGreaterThanOrEqual(
          Date.parse(done.waves[i - 1]!.finishedAt!),
        );
      // While wave 1 ran, devices beyond the members of waves 1..2 had not installed release 2.
      for (const view of seen) expect(view.totals.succeeded).toBeLessThanOrEqual(view.totals.members);
      await Promise.all([...agents.values()].map((agent) => agent.waitForLine(isInstalled(2), 240_000)));
      for (const name of AGENTS)
        expect(await linkedSha256(path.join(workDir, 'agents', name, 'current'))).toBe(bundles.good.sha256);
    });

    it('a release failing its smoke test pauses at the first wave’s error threshold and reaches no one else', async () => {
      const created = await api<RolloutView>('POST', '/v1/rollouts', {
        line: 'sorter',
        candidateId: candidates.get(bundles.bad),
        waves: [{ percent: 50 }, { percent: 100 }],
        errorThreshold: { count: 2 },
      });
      expect(created.release).toBe(3);
      const paused = await follow(created.id, (view) => view.state !== 'running');
      expect(paused.state).toBe('paused');
      expect(paused.stateReason).toMatch(/error threshold reached: 2 of 2/);
      expect(paused.waves.map((wave) => wave.state)).toEqual(['halted', 'pending']);
      const wave = new Set((await members(created.id)).map((member) => member.deviceId));
      expect(wave.size).toBe(2);
      for (const name of wave)
        expect(
          agentLines(name).some((line) => line.msg === 'smoke test failed; rolled back' && line.release === 3),
        ).toBe(true);
      // Every device outside the wave polls a few more times after the pause and is never offered release 3.
      const outside = AGENTS.filter((name) => !wave.has(name));
      await Promise.all(
        outside.map(async (name) => {
          const rounds = agentLines(name).filter((line) => line.msg === 'round done').length;
          await agents
            .get(name)!
            .waitForLine(
              () => agentLines(name).filter((line) => line.msg === 'round done').length >= rounds + 3,
              30_000,
            );
        }),
      );
      for (const name of outside)
        expect(agentLines(name).some((line) => line.msg === 'update offered' && line.release === 3)).toBe(false);
      const fleet = await devices();
      for (const name of AGENTS) expect(fleet.get(name)).toMatchObject({ release: 2 });
    });

    it('rollback brings the wave back: the previous artifact under a new, higher release number', async () => {
      // The paused rollout: its wave refused release 3 and still runs release 2's artifact, which release 4 now is.
      const [paused] = (await api<{ items: RolloutView[] }>('GET', '/v1/rollouts?state=paused')).items;
      const rolled = await api<RolloutView>('POST', `/v1/rollouts/${paused!.id}/rollback`, { reason: 'NaN outputs' });
      expect(rolled).toMatchObject({ state: 'rolled_back', rollbackRelease: 4, stateReason: 'NaN outputs' });
      for (const name of AGENTS)
        expect(await linkedSha256(path.join(workDir, 'agents', name, 'current'))).toBe(bundles.good.sha256);

      // A wave that did install: release 5 reaches the first wave, which waits for approval; rollback moves it
      // back to release 4's artifact under release 6 (higher than the 5 it runs, so the agent accepts it).
      const next = await api<RolloutView>('POST', '/v1/rollouts', {
        line: 'sorter',
        candidateId: candidates.get(bundles.next),
        waves: [{ percent: 33 }, { percent: 100 }],
        autoAdvance: false,
      });
      expect(next.release).toBe(5);
      const waiting = await follow(next.id, (view) => view.state !== 'running');
      expect(waiting.state).toBe('awaiting_approval');
      const wave = (await members(next.id)).map((entry) => entry.deviceId);
      expect(wave).toHaveLength(1);
      await Promise.all(wave.map((name) => agents.get(name)!.waitForLine(isInstalled(5), 240_000)));
      const back = await api<RolloutView>('POST', `/v1/rollouts/${next.id}/rollback`);
      expect(back).toMatchObject({ state: 'rolled_back', rollbackRelease: 6 });
      await Promise.all(wave.map((name) => agents.get(name)!.waitForLine(isInstalled(6), 240_000)));
      const deadline = Date.now() + 30_000;
      let fleet = await devices();
      while (!wave.every((name) => fleet.get(name)?.release === 6) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        fleet = await devices();
      }
      for (const name of wave)
        expect(fleet.get(name)).toMatchObject({ release: 6, state: 'installed', artifactSha256: bundles.good.sha256 });
      for (const name of AGENTS) {
        expect(await linkedSha256(path.join(workDir, 'agents', name, 'current')), name).toBe(bundles.good.sha256);
        // Outside the wave, nobody was ever offered release 5.
        if (!wave.includes(name))
          expect(agentLines(name).some((line) => line.msg === 'update offered' && line.release === 5)).toBe(false);
      }
    });
  },
);
