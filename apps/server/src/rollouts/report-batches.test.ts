import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutView } from '@modelfleet/contracts';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import {
  createTestCandidate,
  createTestEnrollmentToken,
  enrollTestDevice,
  publishTestRelease,
} from '../devices/test-fleet.js';

/**
 * Reports of many devices at once are applied in batches (one transaction per batch, store.transitionBatch):
 * none may be lost, and each report's request returns only once its event is committed.
 */
describe('rollout progress under a burst of reports', { timeout: 120_000 }, () => {
  let server: TestServer;
  const LINE = 'burst-line';
  const tokens: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    await publishTestRelease(server, LINE);
    const enrolment = await createTestEnrollmentToken(server, { line: LINE });
    for (let i = 0; i < 16; i++)
      tokens.push((await enrollTestDevice(server, enrolment.token, `burst-${i}`)).deviceToken);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  it('sixteen devices reporting at once all count, and the rollout completes', async () => {
    const { candidate } = await createTestCandidate(server, LINE);
    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/rollouts',
      headers: server.auth(),
      payload: { line: LINE, candidateId: candidate.id, waves: [{ percent: 50 }, { percent: 100 }] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const view = created.json<RolloutView>();
    const report = (token: string, state: string) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/device/reports',
        headers: { authorization: `Bearer ${token}` },
        payload: { idempotencyKey: randomUUID(), state, release: view.release },
      });
    const statuses = async () =>
      (
        await server.app.inject({ method: 'GET', url: `/v1/rollouts/${view.id}`, headers: server.auth() })
      ).json<RolloutView>();

    // Everyone reports at once, members of the first wave and devices not yet admitted alike.
    const first = await Promise.all(tokens.map((token) => report(token, 'installed')));
    expect(first.map((response) => response.statusCode)).toEqual(tokens.map(() => 202));
    // Each request returned after its event was committed: the first wave's 8 installs are all counted.
    const afterFirst = await statuses();
    expect(afterFirst.waves[0]).toMatchObject({ state: 'succeeded', total: 8 });
    expect(afterFirst.currentWave).toBe(1);

    const second = await Promise.all(tokens.map((token) => report(token, 'installed')));
    expect(second.every((response) => response.statusCode === 202)).toBe(true);
    const done = await statuses();
    expect(done).toMatchObject({ state: 'completed', totals: { members: 16, succeeded: 16 } });
  });
});
