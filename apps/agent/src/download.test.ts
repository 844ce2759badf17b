import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completeFile, downloadArtifact, partialFile } from './download.js';
import { DownloadCorrupt, DownloadFailed } from './errors.js';
import { startFakeDeviceServer, type FakeDeviceServer } from './testing/fake-server.js';

const blob = randomBytes(300_000);
const sha256 = createHash('sha256').update(blob).digest('hex');

describe('downloadArtifact', () => {
  let server: FakeDeviceServer;
  let dir = '';
  const request = () => ({
    url: `${server.url}/v1/blobs/${sha256}`,
    token: 'mfd_test',
    sha256,
    size: blob.length,
    downloadsDir: dir,
  });

  beforeAll(async () => {
    server = await startFakeDeviceServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-download-'));
    server.blobs.set(sha256, blob);
    server.blobBytesSent = 0;
    server.ranges = [];
    server.cutBlobAfter = null;
  });

  it('downloads and verifies a whole blob', async () => {
    const result = await downloadArtifact(request());
    expect(result).toMatchObject({ file: completeFile(dir, sha256), bytesFetched: blob.length, bytesResumed: 0 });
    expect((await fs.readFile(result.file)).equals(blob)).toBe(true);
    expect(server.ranges).toEqual([null]);
  });

  it('resumes a cut download with Range, fetching only the missing bytes', async () => {
    server.cutBlobAfter = 120_000;
    await expect(downloadArtifact(request())).rejects.toSatisfy((error) => DownloadFailed.is(error));
    const onDisk = (await fs.stat(partialFile(dir, sha256))).size;
    expect(onDisk).toBeGreaterThan(0);
    expect(onDisk).toBeLessThanOrEqual(120_000);
    const sentBefore = server.blobBytesSent;
    const result = await downloadArtifact(request());
    expect(server.ranges[1]).toBe(`bytes=${onDisk}-`);
    expect(result.bytesFetched).toBe(blob.length - onDisk);
    expect(result.bytesResumed).toBe(onDisk);
    expect(server.blobBytesSent - sentBefore).toBe(blob.length - onDisk);
    expect((await fs.readFile(result.file)).equals(blob)).toBe(true);
  });

  it('after a crash, re-reads (hashes) the partial file on disk and continues from its size', async () => {
    // As a power cut leaves it: the first 100 000 bytes on disk, nothing in memory.
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(partialFile(dir, sha256), blob.subarray(0, 100_000));
    const result = await downloadArtifact(request());
    expect(server.ranges).toEqual(['bytes=100000-']);
    expect(result.bytesFetched).toBe(blob.length - 100_000);
    expect(
      createHash('sha256')
        .update(await fs.readFile(result.file))
        .digest('hex'),
    ).toBe(sha256);
  });

  it('a partial file with wrong bytes ends in a sha256 mismatch: deleted, the next attempt starts from zero', async () => {
    const wrong = Buffer.from(blob.subarray(0, 50_000));
    wrong[10] = wrong[10]! ^ 0xff;
    await fs.writeFile(partialFile(dir, sha256), wrong);
    await expect(downloadArtifact(request())).rejects.toSatisfy((error) => DownloadCorrupt.is(error));
    await expect(fs.stat(partialFile(dir, sha256))).rejects.toThrow(/ENOENT/);
    const retry = await downloadArtifact(request());
    expect(server.ranges.at(-1)).toBeNull();
    expect(retry.bytesFetched).toBe(blob.length);
  });

  it('refuses a corrupted blob (right size, wrong bytes) and one of the wrong size', async () => {
    const corrupted = Buffer.from(blob);
    corrupted[1234] = corrupted[1234]! ^ 1;
    server.blobs.set(sha256, corrupted);
    await expect(downloadArtifact(request())).rejects.toSatisfy((error) => DownloadCorrupt.is(error));
    await expect(fs.readdir(dir)).resolves.toEqual([]);
    server.blobs.set(sha256, blob.subarray(0, blob.length - 1));
    await expect(downloadArtifact({ ...request() })).rejects.toSatisfy(
      (error) => DownloadFailed.is(error) || DownloadCorrupt.is(error),
    );
    server.blobs.set(sha256, Buffer.concat([blob, Buffer.from([1])]));
    await fs.rm(partialFile(dir, sha256), { force: true });
    await expect(downloadArtifact(request())).rejects.toSatisfy((error) => DownloadCorrupt.is(error));
    await expect(fs.stat(partialFile(dir, sha256))).rejects.toThrow(/ENOENT/);
  });

  it('a partial file longer than the artifact is discarded; 416 deletes the partial file', async () => {
    await fs.writeFile(partialFile(dir, sha256), Buffer.concat([blob, Buffer.from('extra')]));
    const result = await downloadArtifact(request());
    expect(result.bytesFetched).toBe(blob.length);
    await fs.rm(result.file);
    // the server's blob is shorter than what we hold: it answers 416 to our Range
    server.blobs.set(sha256, blob.subarray(0, 1000));
    await fs.writeFile(partialFile(dir, sha256), blob.subarray(0, 2000));
    await expect(downloadArtifact(request())).rejects.toSatisfy((error) => DownloadFailed.is(error));
    await expect(fs.stat(partialFile(dir, sha256))).rejects.toThrow(/ENOENT/);
  });
});
