import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInProcessQueue, createJobCatalog, waitForJob, type JobProgress, type JobQueue } from '@modelfleet/jobs';
import { createFsBlobStore, type BlobStore } from '@modelfleet/storage';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobDigestJob } from './blob-digest-job.js';

// Only the job under test: the full catalog's services (database, signing key) play no part here.
const createDigestCatalog = () => createJobCatalog([blobDigestJob]);
type DigestCatalog = ReturnType<typeof createDigestCatalog>;

describe('blob.digest (in-process)', () => {
  let root: string;
  let blobs: BlobStore;
  let queue: JobQueue<DigestCatalog>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mf-digest-'));
    blobs = await createFsBlobStore({ root });
    queue = createInProcessQueue(createDigestCatalog(), {
      services: { blobs, logger: pino({ enabled: false }) },
      cpu: { size: 1 },
    });
  });
  afterAll(async () => {
    await queue.close();
    await rm(root, { recursive: true, force: true });
  });

  async function digest(bytes: Uint8Array) {
    const { sha256 } = await blobs.put(bytes);
    const { jobId } = await queue.enqueue('blob.digest', { sha256 });
    return { sha256, job: await waitForJob(queue, jobId, { timeoutMs: 20_000 }) };
  }

  it('measures a blob: address verified, size, entropy 0 for one repeated byte', async () => {
    const { sha256, job } = await digest(new Uint8Array(4096).fill(7));
    expect(job.state).toBe('completed');
    expect(job.result).toEqual({ sha256, size: 4096, entropyBitsPerByte: 0 });
  });

  it('gives exactly 8 bits per byte when every byte value is equally frequent', async () => {
    const bytes = new Uint8Array(256 * 64).map((_, index) => index % 256);
    const { job } = await digest(bytes);
    expect(job.result).toMatchObject({ size: 256 * 64, entropyBitsPerByte: 8 });
  });

  it('gives 1 bit per byte for two equally frequent values', async () => {
    const bytes = new Uint8Array(1000).map((_, index) => (index % 2 === 0 ? 0 : 255));
    expect((await digest(bytes)).job.result).toMatchObject({ entropyBitsPerByte: 1 });
  });

  it('reports reading and digesting progress up to 100 % for a multi-slice blob', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 17);
    const { sha256 } = await blobs.put(bytes);
    let jobId = '';
    const seen: JobProgress[] = [];
    queue.on('progress', (event) => {
      if (event.jobId === jobId) seen.push(event.progress);
    });
    ({ jobId } = await queue.enqueue('blob.digest', { sha256 }));
    const job = await waitForJob(queue, jobId, { timeoutMs: 20_000 });
    expect(job.result).toMatchObject({ sha256, size: bytes.length });
    expect((job.result as { entropyBitsPerByte: number }).entropyBitsPerByte).toBeGreaterThan(7.99);
    expect(seen.some((progress) => progress.stage === 'reading')).toBe(true);
    expect(seen.at(-1)).toEqual({ stage: 'digesting', percent: 100 });
    const percents = seen.map((progress) => progress.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('fails without retry when the stored bytes do not match their address', async () => {
    const bytes = randomBytes(2048);
    const { sha256 } = await blobs.put(bytes);
    // Simulate on-disk corruption of the published blob.
    await writeFile(join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256), randomBytes(2048));
    const { jobId } = await queue.enqueue('blob.digest', { sha256 });
    const job = await waitForJob(queue, jobId, { timeoutMs: 20_000 });
    expect(job).toMatchObject({ state: 'failed', failedCode: 'MF_ERR_BLOB_CORRUPT', attemptsMade: 1 });
  });

  it('fails without retry when the blob does not exist (404 is permanent)', async () => {
    const sha256 = createHash('sha256').update('absent').digest('hex');
    const { jobId } = await queue.enqueue('blob.digest', { sha256 });
    const job = await waitForJob(queue, jobId, { timeoutMs: 20_000 });
    expect(job).toMatchObject({ state: 'failed', failedCode: 'MF_ERR_BLOB_NOT_FOUND', attemptsMade: 1 });
  });

  it('refuses a payload that is not a sha256', async () => {
    await expect(queue.enqueue('blob.digest', { sha256: 'not-a-hash' })).rejects.toMatchObject({
      code: 'MF_ERR_JOB_PAYLOAD_INVALID',
    });
  });
});
