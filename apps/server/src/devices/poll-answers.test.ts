import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import type { DevicePrincipal } from './principal.js';
import { createPollAnswers, type DeltaSource } from './poll-answers.js';
import { createLatestReleaseTargets } from './targets.js';
import { publishTestRelease } from './test-fleet.js';

function onChannel(channelId: string): DevicePrincipal {
  return { kind: 'device', id: '01a228ea-0000-7000-8000-0000000000d1', deviceId: 'poll-test', channelId, lineId: null };
}

describe('poll answers cache', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('signs an offer once per release, again only when less than half its lifetime remains', async () => {
    const { release } = await publishTestRelease(server, 'answers-line');
    let clock = Date.parse('2026-11-29T12:00:00Z');
    const answers = createPollAnswers(
      createLatestReleaseTargets(server.services.db, { releaseTtlMs: 2_000, now: () => clock }),
      server.services.signingKey,
      {
        pollAfterSeconds: 30,
        offerLifetimeSeconds: 1_000,
        now: () => clock,
      },
    );
    const first = await answers.forDevice(onChannel(release.channelId));
    expect(first?.answer.offer.signed).toMatchObject({
      release: release.number,
      pollAfterSeconds: 30,
      issuedAt: '2026-11-29T12:00:00.000Z',
    });
    expect(answers.signatures).toBe(1);
    clock += 499_000; // still more than half the lifetime left
    expect((await answers.forDevice(onChannel(release.channelId)))?.answer).toBe(first?.answer);
    expect(answers.signatures).toBe(1);
    clock += 2_000; // past half: signed again, same ETag (same release and target)
    const second = await answers.forDevice(onChannel(release.channelId));
    expect(answers.signatures).toBe(2);
    expect(second?.answer.offer.signed.issuedAt).toBe('2026-11-29T12:08:21.000Z');
    expect(second?.answer.offer.signed.expiresAt).toBe('2026-11-29T12:25:01.000Z');
    expect(second?.etag).toBe(first?.etag);
  });

  it('sees a release published elsewhere when the TTL ends, and at once after releasePublished()', async () => {
    const { release } = await publishTestRelease(server, 'answers-ttl');
    let clock = Date.now();
    const answers = createPollAnswers(
      createLatestReleaseTargets(server.services.db, { releaseTtlMs: 2_000, now: () => clock }),
      server.services.signingKey,
      {
        pollAfterSeconds: 60,
        offerLifetimeSeconds: 3_600,
        now: () => clock,
      },
    );
    expect((await answers.forDevice(onChannel(release.channelId)))?.releaseId).toBe(release.id);
    const { release: newer } = await publishTestRelease(server, 'answers-ttl');
    expect((await answers.forDevice(onChannel(release.channelId)))?.releaseId).toBe(release.id); // cached
    clock += 2_001;
    expect((await answers.forDevice(onChannel(release.channelId)))?.releaseId).toBe(newer.id);
    const { release: newest } = await publishTestRelease(server, 'answers-ttl');
    answers.releasePublished(release.channelId);
    expect((await answers.forDevice(onChannel(release.channelId)))?.releaseId).toBe(newest.id);
  });

  it('answers null for a channel without releases', async () => {
    const answers = createPollAnswers(
      createLatestReleaseTargets(server.services.db, { releaseTtlMs: 2_000 }),
      server.services.signingKey,
      {
        pollAfterSeconds: 60,
        offerLifetimeSeconds: 3_600,
      },
    );
    expect(await answers.forDevice(onChannel('01a228ea-0000-7000-8000-000000000000'))).toBeNull();
  });

  it('asks the delta source only for a device that runs another artifact, and caches the offer per delta', async () => {
    const { release } = await publishTestRelease(server, 'answers-delta');
    const asked: string[] = [];
    const deltas: DeltaSource = {
      deltaFor(from) {
        asked.push(from);
        return from === 'a'.repeat(64)
          ? { from, sha256: 'd'.repeat(64), size: 10, format: 'test', url: `/v1/blobs/${'d'.repeat(64)}` }
          : null;
      },
    };
    const answers = createPollAnswers(
      createLatestReleaseTargets(server.services.db, { releaseTtlMs: 2_000 }),
      server.services.signingKey,
      { pollAfterSeconds: 60, offerLifetimeSeconds: 3_600 },
      deltas,
    );
    const device = onChannel(release.channelId);
    expect((await answers.forDevice(device))?.answer.offer.signed.delta).toBeNull();
    expect((await answers.forDevice(device, release.artifactSha256))?.answer.offer.signed.delta).toBeNull();
    expect(asked).toEqual([]);
    const withDelta = await answers.forDevice(device, 'a'.repeat(64));
    expect(withDelta?.answer.offer.signed.delta).toMatchObject({ from: 'a'.repeat(64), size: 10 });
    expect((await answers.forDevice(device, 'b'.repeat(64)))?.answer.offer.signed.delta).toBeNull();
    expect(answers.signatures).toBe(2);
    expect((await answers.forDevice(device, 'a'.repeat(64)))?.answer).toBe(withDelta?.answer);
    expect(answers.signatures).toBe(2);
  });
});
