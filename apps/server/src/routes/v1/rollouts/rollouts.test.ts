import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceList, DevicePin, RolloutMemberList, RolloutView, UpdateAnswer } from '@modelfleet/contracts';
import { createKey } from '../../../testing/api.js';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../../../devices/test-fleet.js';
import { sweepRollouts } from '../../../rollouts/progress.js';
import { insertReadyCandidate } from '@modelfleet/db/testing';

describe('rollouts API: waves, thresholds, rollback, pins, and the poll follows them', { timeout: 60_000 }, () => {
  let server: TestServer;
  const LINE = 'rollout-line';
  const tokens = new Map<string, string>(); // deviceId -> device token

  beforeAll(async () => {
    // A release cache that never expires on its own: every poll change below comes from an invalidation.
    server = await startTestServer({
      DEVICE_AUTH_SWEEP_MS: '3600000',
      DEVICE_LAST_SEEN_FLUSH_MS: '3600000',
      DEVICE_RELEASE_CACHE_TTL_MS: '3600000',
    });
    await publishTestRelease(server, LINE); // release 1: what the channel runs
    const enrolment = await createTestEnrollmentToken(server, { line: LINE, tags: ['hall-3'] });
    for (let i = 0; i < 4; i++) {
      const enrolled = await enrollTestDevice(server, enrolment.token, `sorter-${i}`);
      tokens.set(enrolled.deviceId, enrolled.deviceToken);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, key?: string) =>
    server.app.inject({ method, url, headers: server.auth(key), ...(payload === undefined ? {} : { payload }) });
  /** A candidate of LINE that is not published anywhere yet. */
  const candidate = async (): Promise<{ id: string; sha256: string }> => {
    const { prisma } = server.services.db;
    const line = await prisma.modelLine.findUniqueOrThrow({ where: { name: LINE } });
    const stored = await server.services.blobs.put(new Uint8Array(randomBytes(5000)));
    const row = await insertReadyCandidate(prisma, { lineId: line.id, artifact: stored });
    return { id: row.id, sha256: stored.sha256 };
  };
  /** The release number the poll offers a device now (null: nothing to offer). */
  const offered = async (deviceId: string): Promise<{ release: number; sha256: string } | null> => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/v1/device/update',
      headers: { authorization: `Bearer ${tokens.get(deviceId)}` },
    });
    if (response.statusCode === 204) return null;
    expect(response.statusCode).toBe(200);
    const offer = response.json<UpdateAnswer>().offer.signed;
    return { release: offer.release, sha256: offer.target.sha256 };
  };
  const offeredReleases = async () =>
    Object.fromEntries(await Promise.all([...tokens.keys()].map(async (id) => [id, (await offered(id))?.release])));
  const report = async (deviceId: string, state: string, release: number) => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: { authorization: `Bearer ${tokens.get(deviceId)}` },
      payload: { idempotencyKey: randomUUID(), state, release },
    });
    expect(response.statusCode).toBe(202);
  };
  const members = async (id: string) =>
    (await api('GET', `/v1/rollouts/${id}/devices`)).json<RolloutMemberList>().items;
  const rollout = async (id: string) => {
    const response = await api('GET', `/v1/rollouts/${id}`);
    expect(response.statusCode).toBe(200);
    return response.json<RolloutView>();
  };

  it('a good release goes out wave by wave; outside the current waves devices keep their release', async () => {
    const good = await candidate();
    const created = await api('POST', '/v1/rollouts', {
      line: LINE,
      candidateId: good.id,
      tagFilter: ['hall-3'],
      waves: [{ percent: 50 }, { percent: 100 }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const view = created.json<RolloutView>();
    expect(view).toMatchObject({ state: 'running', release: 2, currentWave: 0, targetDevices: 4 });
    expect(view.waves.map((wave) => [wave.state, wave.total])).toEqual([
      ['running', 2],
      ['pending', 0],
    ]);
    expect(view.totals).toMatchObject({ members: 2, pending: 2 });

    const first = (await members(view.id)).map((member) => member.deviceId);
    const offers = await offeredReleases();
    for (const id of tokens.keys()) expect(offers[id]).toBe(first.includes(id) ? 2 : 1);
    // The staged release is not the channel's: a new rollout is refused while this one is active.
    const second = await api('POST', '/v1/rollouts', { line: LINE, release: 2, waves: [{ percent: 100 }] });
    expect(second.json<{ code: string }>().code).toBe('MF_ERR_ROLLOUT_ACTIVE');

    for (const id of first) await report(id, 'downloading', 2);
    expect((await rollout(view.id)).totals).toMatchObject({ in_progress: 2 });
    for (const id of first) await report(id, 'installed', 2);
    const advanced = await rollout(view.id);
    expect(advanced).toMatchObject({ state: 'running', currentWave: 1 });
    expect(advanced.waves.map((wave) => [wave.state, wave.total, wave.progress])).toEqual([
      ['succeeded', 2, 1],
      ['running', 2, 0],
    ]);
    expect(Object.values(await offeredReleases())).toEqual([2, 2, 2, 2]);

    const rest = (await members(view.id)).filter((member) => member.waveIndex === 1).map((member) => member.deviceId);
    for (const id of rest) await report(id, 'installed', 2);
    const done = await rollout(view.id);
    expect(done).toMatchObject({ state: 'completed', totals: { members: 4, succeeded: 4 } });
    expect(done.finishedAt).not.toBeNull();
    // Completed: the release is the channel's, for devices that enrol later too.
    const release = await server.services.db.prisma.release.findUniqueOrThrow({ where: { id: done.releaseId } });
    expect(release.staged).toBe(false);
    const enrolment = await createTestEnrollmentToken(server, { line: LINE });
    const late = await enrollTestDevice(server, enrolment.token, 'sorter-late');
    tokens.set(late.deviceId, late.deviceToken);
    expect((await offered('sorter-late'))?.release).toBe(2);
  });

  it('a failing release pauses at the error threshold of its first wave; rollback brings the wave back', async () => {
    const bad = await candidate();
    const created = await api('POST', '/v1/rollouts', {
      line: LINE,
      candidateId: bad.id,
      waves: [{ devices: ['sorter-0', 'sorter-1'] }, { percent: 100 }],
      errorThreshold: { count: 2 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const view = created.json<RolloutView>();
    expect(view.release).toBe(3);
    await report('sorter-0', 'rolled-back', 3);
    expect((await rollout(view.id)).state).toBe('running');
    await report('sorter-1', 'failed', 3);
    const paused = await rollout(view.id);
    expect(paused.state).toBe('paused');
    expect(paused.stateReason).toMatch(/error threshold reached: 2 of 2/);
    expect(paused.waves[0]!.state).toBe('halted');
    // Nobody outside the canary wave is offered release 3, even after a sweep.
    await sweepRollouts(server.services.db);
    const offers = await offeredReleases();
    expect(offers).toMatchObject({ 'sorter-0': 3, 'sorter-1': 3, 'sorter-2': 2, 'sorter-3': 2, 'sorter-late': 2 });

    const rolled = await api('POST', `/v1/rollouts/${view.id}/rollback`, { reason: 'NaN outputs' });
    expect(rolled.statusCode, rolled.body).toBe(200);
    expect(rolled.json<RolloutView>()).toMatchObject({
      state: 'rolled_back',
      stateReason: 'NaN outputs',
      rollbackRelease: 4,
    });
    const release4 = await offered('sorter-0');
    const release2 = await server.services.db.prisma.release.findFirstOrThrow({
      where: { number: 2, channel: { line: { name: LINE } } },
    });
    expect(release4).toEqual({ release: 4, sha256: release2.artifactSha256 });
    expect(Object.values(await offeredReleases()).every((number) => number === 4)).toBe(true);
    const row = await server.services.db.prisma.release.findFirstOrThrow({
      where: { number: 4, channel: { line: { name: LINE } } },
    });
    expect(row.republishedFromId).toBe(release2.id);
    // A rolled-back rollout takes no more actions.
    const again = await api('POST', `/v1/rollouts/${view.id}/resume`);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('MF_ERR_ROLLOUT_STATE');
  });

  it('a new evaluator over the same rows continues: reports stored while no one evaluated, then a sweep', async () => {
    const next = await candidate();
    const created = await api('POST', '/v1/rollouts', {
      line: LINE,
      candidateId: next.id,
      waves: [{ percent: 20 }, { percent: 100 }],
      inProgressTimeoutSeconds: 60,
      errorThreshold: { percent: 50 },
    });
    const view = created.json<RolloutView>();
    const [member] = await members(view.id);
    const { prisma } = server.services.db;
    // As if the process stopped right after storing the device's success: only the rows say what happened.
    await prisma.rolloutDevice.updateMany({ where: { rolloutId: view.id }, data: { state: 'succeeded' } });
    expect(await sweepRollouts(server.services.db)).toBe(1);
    const advanced = await rollout(view.id);
    expect(advanced.currentWave).toBe(1);
    expect(advanced.totals.members).toBe(5);
    // A minute and more of silence from the new wave: timed out, and 4 of 5 is over 50 %: paused.
    await sweepRollouts(server.services.db, new Date(Date.now() + 61_000));
    const paused = await rollout(view.id);
    expect(paused).toMatchObject({ state: 'paused', totals: { timed_out: 4, succeeded: 1 } });
    expect(member!.deviceId).toBeDefined();
    const aborted = await api('POST', `/v1/rollouts/${view.id}/abort`);
    expect(aborted.statusCode, aborted.body).toBe(200);
    expect(aborted.json<RolloutView>().state).toBe('aborted');
    // Aborted: its release reaches no one who had not installed it.
    const offers = await offeredReleases();
    for (const [id, number] of Object.entries(offers)) expect(number, id).toBe(id === member!.deviceId ? 5 : 4);
  });

  it('a pin wins over everything; unpin returns the device to its channel', async () => {
    // A device on the channel's release 4 (the aborted rollout's one member, chosen by hash, keeps release 5).
    const device = Object.entries(await offeredReleases()).find(([, number]) => number === 4)![0];
    const pinned = await api('PUT', `/v1/devices/${device}/pin`, { release: 1 });
    expect(pinned.statusCode, pinned.body).toBe(200);
    expect(pinned.json<DevicePin>()).toMatchObject({ deviceId: device, channel: 'stable', pinnedRelease: 1 });
    expect((await offered(device))?.release).toBe(1);
    // The operators' list shows the pin (and only on that device).
    const listed = (await api('GET', '/v1/devices')).json<DeviceList>().items;
    expect(
      listed.filter((info) => info.pinnedRelease !== null).map((info) => [info.deviceId, info.pinnedRelease]),
    ).toEqual([[device, 1]]);
    const missing = await api('PUT', `/v1/devices/${device}/pin`, { release: 99 });
    expect(missing.json<{ code: string }>().code).toBe('MF_ERR_PIN_RELEASE_NOT_FOUND');
    const unpinned = await api('DELETE', `/v1/devices/${device}/pin`);
    expect(unpinned.json<DevicePin>().pinnedRelease).toBeNull();
    expect((await offered(device))?.release).toBe(4);
    expect(
      (await api('GET', '/v1/devices')).json<DeviceList>().items.every((info) => info.pinnedRelease === null),
    ).toBe(true);
  });

  it('refuses bad bodies and keys without the scope', async () => {
    const read = await createKey(server, ['read']);
    expect((await api('GET', '/v1/rollouts', undefined, read)).statusCode).toBe(200);
    const list = (await api('GET', `/v1/rollouts?line=${LINE}`, undefined, read)).json<{ items: RolloutView[] }>();
    expect(list.items.map((item) => item.state)).toEqual(['aborted', 'rolled_back', 'completed']);
    const body = { line: LINE, release: 1, waves: [{ percent: 100 }] };
    expect((await api('POST', '/v1/rollouts', body, read)).statusCode).toBe(403);
    expect((await api('PUT', '/v1/devices/sorter-1/pin', { release: 1 }, read)).statusCode).toBe(403);
    const older = await api('POST', '/v1/rollouts', body);
    expect(older.json<{ code: string }>().code).toBe('MF_ERR_ROLLOUT_RELEASE_NOT_NEWER');
    const noHundred = await api('POST', '/v1/rollouts', { ...body, waves: [{ percent: 50 }] });
    expect(noHundred.statusCode).toBe(400);
    const both = await api('POST', '/v1/rollouts', { ...body, candidateId: randomUUID() });
    expect(both.statusCode).toBe(400);
    expect((await api('GET', `/v1/rollouts/${randomUUID()}`)).statusCode).toBe(404);
  });
});
