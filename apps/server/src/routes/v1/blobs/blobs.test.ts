import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../../../devices/test-fleet.js';

describe('GET /v1/blobs/:sha256 (devices)', () => {
  let server: TestServer;
  let deviceToken: string;
  let sha256: string;
  let bytes: Uint8Array;
  /** An artifact of another line: stored, but not this device's to download. */
  let foreignSha256: string;
  /** An artifact of another channel of the device's own line: not its to download either. */
  let otherChannelSha256: string;

  beforeAll(async () => {
    server = await startTestServer();
    const published = await publishTestRelease(server, 'blob-line', { bytes: new Uint8Array(randomBytes(10_000)) });
    sha256 = published.release.artifactSha256;
    bytes = published.bytes;
    foreignSha256 = (await publishTestRelease(server, 'other-line')).release.artifactSha256;
    otherChannelSha256 = (await publishTestRelease(server, 'blob-line', { channel: 'canary' })).release.artifactSha256;
    const { token } = await createTestEnrollmentToken(server, { line: 'blob-line' });
    deviceToken = (await enrollTestDevice(server, token, 'sorter-blobs')).deviceToken;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const get = (sha: string, headers: Record<string, string> = {}, token: string | null = deviceToken) =>
    server.app.inject({
      method: 'GET',
      url: `/v1/blobs/${sha}`,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
    });
  const served = () => server.services.devices.bytesServed.byBlob(sha256);

  it('serves the whole blob with immutable caching headers and counts the bytes', async () => {
    const before = served();
    const response = await get(sha256);
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(Buffer.from(bytes))).toBe(true);
    expect(createHash('sha256').update(response.rawPayload).digest('hex')).toBe(sha256);
    expect(response.headers).toMatchObject({
      etag: `"${sha256}"`,
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      'content-length': String(bytes.length),
      'content-type': 'application/octet-stream',
    });
    expect(served() - before).toBe(bytes.length);
  });

  it.each([
    ['first bytes', 'bytes=0-99', 0, 99],
    ['a middle range', 'bytes=1000-2999', 1000, 2999],
    ['a suffix', 'bytes=-500', 9500, 9999],
    ['an open-ended range', 'bytes=9000-', 9000, 9999],
    ['a range past the end, clipped', 'bytes=9990-20000', 9990, 9999],
  ])('answers 206 for %s (%s)', async (_name, range, start, end) => {
    const before = served();
    const response = await get(sha256, { range });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${bytes.length}`);
    expect(response.headers['content-length']).toBe(String(end - start + 1));
    expect(response.rawPayload.equals(Buffer.from(bytes.subarray(start, end + 1)))).toBe(true);
    // Only the range crossed the wire (what a resumed download relies on).
    expect(served() - before).toBe(end - start + 1);
  });

  it('answers 416 with Content-Range bytes */size for a range past the end', async () => {
    for (const range of [`bytes=${bytes.length}-`, 'bytes=20000-30000', 'bytes=-0']) {
      const response = await get(sha256, { range });
      expect(response.statusCode, range).toBe(416);
      expect(response.headers['content-range']).toBe(`bytes */${bytes.length}`);
      expect(response.json().code).toBe('MF_ERR_RANGE_NOT_SATISFIABLE');
    }
  });

  it('ignores ranges it does not serve (several, other units) and sends the whole blob', async () => {
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-2']) {
      const response = await get(sha256, { range });
      expect(response.statusCode, range).toBe(200);
      expect(response.rawPayload.length).toBe(bytes.length);
    }
  });

  it('sends the whole blob when If-Range names another validator', async () => {
    const stale = await get(sha256, { range: 'bytes=0-9', 'if-range': '"something-else"' });
    expect(stale.statusCode).toBe(200);
    const fresh = await get(sha256, { range: 'bytes=0-9', 'if-range': `"${sha256}"` });
    expect(fresh.statusCode).toBe(206);
  });

  it('answers HEAD with the headers of the whole blob and counts no bytes', async () => {
    const before = served();
    const response = await server.app.inject({
      method: 'HEAD',
      url: `/v1/blobs/${sha256}`,
      headers: { authorization: `Bearer ${deviceToken}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      etag: `"${sha256}"`,
      'content-length': String(bytes.length),
      'accept-ranges': 'bytes',
    });
    expect(response.rawPayload.length).toBe(0);
    expect(served()).toBe(before);
  });

  it('answers 304 when If-None-Match names the blob, sending no bytes', async () => {
    const before = served();
    const response = await get(sha256, { 'if-none-match': `"${sha256}"` });
    expect(response.statusCode).toBe(304);
    expect(response.body).toBe('');
    expect(response.headers['content-length'] ?? '0').toBe('0');
    expect(response.headers.etag).toBe(`"${sha256}"`);
    expect(served()).toBe(before);
  });

  it('answers 404 for a stored blob outside the device’s channel (other line or other channel) and for an unknown one', async () => {
    expect(await server.services.blobs.exists(foreignSha256)).toBe(true);
    expect(await server.services.blobs.exists(otherChannelSha256)).toBe(true);
    for (const sha of [foreignSha256, otherChannelSha256, 'f'.repeat(64)]) {
      const response = await get(sha);
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('MF_ERR_BLOB_NOT_SERVED');
    }
    expect(server.services.devices.bytesServed.byBlob(foreignSha256)).toBe(0);
  });

  it('refuses no token (401), an API key (403) and a revoked device (401)', async () => {
    const none = await get(sha256, {}, null);
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('MF_ERR_CREDENTIAL_MISSING');
    const key = await get(sha256, {}, server.adminKey);
    expect(key.statusCode).toBe(403);
    expect(key.json().code).toBe('MF_ERR_WRONG_CREDENTIAL_KIND');

    const { token } = await createTestEnrollmentToken(server, { line: 'blob-line' });
    const doomed = await enrollTestDevice(server, token, 'sorter-doomed');
    expect((await get(sha256, { range: 'bytes=0-0' }, doomed.deviceToken)).statusCode).toBe(206);
    expect(
      (await server.app.inject({ method: 'DELETE', url: '/v1/devices/sorter-doomed', headers: server.auth() }))
        .statusCode,
    ).toBe(204);
    const revoked = await get(sha256, {}, doomed.deviceToken);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().code).toBe('MF_ERR_CREDENTIAL_INVALID');
  });
});
