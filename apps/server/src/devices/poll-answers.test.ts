import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { createPollAnswers } from './poll-answers.js';
import { publishTestRelease } from './test-fleet.js';

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
    const answers = createPollAnswers(server.services.db, server.services.signingKey, {
      releaseTtlMs: 2_000,
      pollAfterSeconds: 30,
      offerLifetimeSeconds: 1_000,
      now: () => clock,
    });
    const first = await answers.forChannel(release.channelId);
    expect(first?.answer.offer.signed).toMatchObject({
      release: release.number,
      pollAfterSeconds: 30,
      issuedAt: '2026-11-29T12:00:00.000Z',
    });
    expect(answers.signatures).toBe(1);
    clock += 499_000; // still more than half the lifetime left
    expect((await answers.forChannel(release.channelId))?.answer).toBe(first?.answer);
    expect(answers.signatures).toBe(1);
    clock += 2_000; // past half: signed again, same ETag (same release and target)
    const second = await answers.forChannel(release.channelId);
    expect(answers.signatures).toBe(2);
    expect(second?.answer.offer.signed.issuedAt).toBe('2026-11-29T12:08:21.000Z');
    expect(second?.answer.offer.signed.expiresAt).toBe('2026-11-29T12:25:01.000Z');
    expect(second?.etag).toBe(first?.etag);
  });

  it('sees a release published elsewhere when the TTL ends, and at once after releasePublished()', async () => {
    const { release } = await publishTestRelease(server, 'answers-ttl');
    let clock = Date.now();
    const answers = createPollAnswers(server.services.db, server.services.signingKey, {
      releaseTtlMs: 2_000,
      pollAfterSeconds: 60,
      offerLifetimeSeconds: 3_600,
      now: () => clock,
    });
    expect((await answers.forChannel(release.channelId))?.releaseId).toBe(release.id);
    const { release: newer } = await publishTestRelease(server, 'answers-ttl');
    expect((await answers.forChannel(release.channelId))?.releaseId).toBe(release.id); // cached
    clock += 2_001;
    expect((await answers.forChannel(release.channelId))?.releaseId).toBe(newer.id);
    const { release: newest } = await publishTestRelease(server, 'answers-ttl');
    answers.releasePublished(release.channelId);
    expect((await answers.forChannel(release.channelId))?.releaseId).toBe(newest.id);
  });

  it('answers null for a channel without releases', async () => {
    const answers = createPollAnswers(server.services.db, server.services.signingKey, {
      releaseTtlMs: 2_000,
      pollAfterSeconds: 60,
      offerLifetimeSeconds: 3_600,
    });
    expect(await answers.forChannel('01a228ea-0000-7000-8000-000000000000')).toBeNull();
  });
});
