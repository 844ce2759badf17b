import { randomBytes } from 'node:crypto';
import type { UpdateAnswer } from '@modelfleet/contracts';
import { applyDelta } from '@modelfleet/delta';
import { loadDemoModelFiles } from '@modelfleet/demo-models';
import { waitForJob } from '@modelfleet/jobs';
import { encodeBundle, readArtifact, sha256Hex } from '@modelfleet/model-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from './test-fleet.js';

const bundleOf = (name: Parameters<typeof loadDemoModelFiles>[0]) =>
  encodeBundle(readArtifact(loadDemoModelFiles(name)));
const base = bundleOf('mobilenet-v1-025-64');
const head = bundleOf('mobilenet-v1-025-64-head');

/**
 * Issue 6 on the server: polls offer a delta from the device's current artifact (precomputed after a publish
 * or computed on the first poll, once), the blob route serves it to devices of the line only, and the
 * served-bytes counters keep full and delta apart.
 */
describe('delta offers', () => {
  let server: TestServer;
  let deviceToken = '';
  let foreignToken = '';

  beforeAll(async () => {
    server = await startTestServer({ MODELFLEET_DELTA_WAIT_MS: '120000' });
    await publishTestRelease(server, 'delta-line', { bytes: base, viaApi: true });
    const { token } = await createTestEnrollmentToken(server, { line: 'delta-line' });
    deviceToken = (await enrollTestDevice(server, token, 'sorter-delta')).deviceToken;
    await publishTestRelease(server, 'other-line', { viaApi: true });
    const other = await createTestEnrollmentToken(server, { line: 'other-line' });
    foreignToken = (await enrollTestDevice(server, other.token, 'sorter-foreign')).deviceToken;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const poll = (current: string, token = deviceToken) =>
    server.app.inject({
      method: 'GET',
      url: `/v1/device/update?current=${current}`,
      headers: { authorization: `Bearer ${token}` },
    });
  const blob = (sha256: string, headers: Record<string, string> = {}, token = deviceToken) =>
    server.app.inject({
      method: 'GET',
      url: `/v1/blobs/${sha256}`,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const report = (body: Record<string, unknown>) =>
    server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: { authorization: `Bearer ${deviceToken}` },
      payload: { idempotencyKey: randomBytes(8).toString('hex'), ...body },
    });

  it('precomputes after a publish the delta from what the channel runs, and the poll offers it', async () => {
    const baseSha = sha256Hex(base);
    expect((await report({ state: 'installed', release: 1, artifactSha256: baseSha })).statusCode).toBe(202);
    const { release } = await publishTestRelease(server, 'delta-line', { bytes: head, viaApi: true });
    const job = await waitForJob(server.services.queue, `precompute-deltas-${release.id}`, { timeoutMs: 60_000 });
    expect(job).toMatchObject({ state: 'completed' });
    expect(job.result).toMatchObject({
      target: release.artifactSha256,
      pairs: [{ from: baseSha, devices: 1, delta: { size: expect.any(Number) } }],
      // The prune after it ran; everything here is younger than the keep period, so nothing went.
      pruned: { liveTargets: expect.any(Number), rows: 0, blobs: 0, bytes: 0 },
    });
    const cache = server.services.devices.deltas.cache;
    const computedBefore = cache.stats.computed;

    const response = await poll(baseSha);
    expect(response.statusCode).toBe(200);
    const offer = response.json<UpdateAnswer>().offer.signed;
    expect(offer.target.sha256).toBe(release.artifactSha256);
    expect(offer.delta).toMatchObject({ from: baseSha, format: 'mfdelta/1' });
    const delta = offer.delta!;
    expect(delta.url).toBe(`/v1/blobs/${delta.sha256}`);
    expect(delta.size).toBeLessThan(head.length * 0.05);
    // The job and the poll share the process's cache: nothing was computed for the poll.
    expect(cache.stats.computed).toBe(computedBefore);

    // Served like a full blob: whole, by range, with its ETag; counted as delta bytes.
    const before = server.services.devices.bytesServed.snapshot();
    const whole = await blob(delta.sha256);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers).toMatchObject({ etag: `"${delta.sha256}"`, 'accept-ranges': 'bytes' });
    expect(sha256Hex(applyDelta(base, whole.rawPayload))).toBe(release.artifactSha256);
    const tail = await blob(delta.sha256, { range: 'bytes=100-' });
    expect(tail.statusCode).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes 100-${delta.size - 1}/${delta.size}`);
    const after = server.services.devices.bytesServed.snapshot();
    expect(after.delta.bytes - before.delta.bytes).toBe(delta.size + delta.size - 100);
    expect(after.delta.requests - before.delta.requests).toBe(2);
    expect(after.full).toEqual(before.full);

    // Only devices of the line may fetch it.
    const foreign = await blob(delta.sha256, {}, foreignToken);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('MF_ERR_BLOB_NOT_SERVED');

    // A full download counts as full.
    const full = await blob(release.artifactSha256, { range: 'bytes=0-9' });
    expect(full.statusCode).toBe(206);
    const last = server.services.devices.bytesServed.snapshot();
    expect(last.full).toEqual({ bytes: before.full.bytes + 10, requests: before.full.requests + 1 });
  }, 120_000);

  it('computes a new pair on the first polls, once however many ask at the same time', async () => {
    const headSha = sha256Hex(head);
    // Back to the base model (a rollback republish, not through the API: no precompute job runs).
    const { release } = await publishTestRelease(server, 'delta-line', { bytes: base });
    server.services.devices.polls.releasePublished();
    const cache = server.services.devices.deltas.cache;
    const computedBefore = cache.stats.computed;
    expect(cache.peek(headSha, release.artifactSha256)).toBeUndefined();
    const answers = await Promise.all(Array.from({ length: 8 }, () => poll(headSha)));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(8).fill(200));
    const deltas = answers.map((answer) => answer.json<UpdateAnswer>().offer.signed.delta);
    expect(deltas[0]).toMatchObject({ from: headSha });
    expect(new Set(deltas.map((delta) => delta?.sha256)).size).toBe(1);
    expect(cache.stats.computed - computedBefore).toBe(1);
    const rows = await server.services.db.prisma.artifactDelta.findMany({
      where: { fromSha256: headSha, toSha256: release.artifactSha256 },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deltaSha256).toBe(deltas[0]!.sha256);
    // Warm: decided from memory.
    expect(cache.peek(headSha, release.artifactSha256)).toMatchObject({ sha256: deltas[0]!.sha256 });
  }, 120_000);

  it('offers no delta from an artifact the server does not have, nor to a device on the target', async () => {
    const unknown = await poll('e'.repeat(64));
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json<UpdateAnswer>().offer.signed.delta).toBeNull();
    const target = unknown.json<UpdateAnswer>().offer.signed.target.sha256;
    expect((await poll(target)).statusCode).toBe(304);
  });

  it('offers the full artifact only when the artifacts cannot be diffed (not model bundles)', async () => {
    const first = await publishTestRelease(server, 'other-line', { viaApi: true });
    const second = await publishTestRelease(server, 'other-line', { viaApi: true });
    const response = await poll(first.release.artifactSha256, foreignToken);
    expect(response.statusCode).toBe(200);
    const offer = response.json<UpdateAnswer>().offer.signed;
    expect(offer.target.sha256).toBe(second.release.artifactSha256);
    expect(offer.delta).toBeNull();
  });
});
