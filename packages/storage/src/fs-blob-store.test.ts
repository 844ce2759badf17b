import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';
import { createFsBlobStore } from './fs-blob-store.js';

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative paths, so a test can assert nothing else was left behind. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** A source that yields `chunks` and then fails, like a client connection dropping mid-upload. */
async function* failingSource(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
  throw new Error('connection reset');
}

describe('createFsBlobStore', () => {
  let root: string;
  let store: BlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mf-blobs-'));
    store = await createFsBlobStore({ root });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores bytes under root/ab/cd/<sha256> and reads them back', async () => {
    const bytes = randomBytes(100_000);
    const sha256 = sha256Of(bytes);
    const result = await store.put(bytes);
    expect(result).toEqual({ sha256, size: 100_000, created: true });
    expect(await listFiles(root)).toEqual([join(sha256.slice(0, 2), sha256.slice(2, 4), sha256)]);
    const read = await store.get(sha256);
    expect(read).toMatchObject({ size: 100_000, start: 0, end: 99_999, length: 100_000 });
    expect((await readAll(read.stream)).equals(bytes)).toBe(true);
    expect(await store.stat(sha256)).toEqual({ sha256, size: 100_000 });
    expect(await store.exists(sha256)).toBe(true);
  });

  it('hashes a stream on the way in, chunk by chunk', async () => {
    const chunks = Array.from({ length: 20 }, () => randomBytes(7_919));
    const whole = Buffer.concat(chunks);
    const result = await store.put(Readable.from(chunks));
    expect(result.sha256).toBe(sha256Of(whole));
    expect(result.size).toBe(whole.length);
  });

  it('takes a web ReadableStream (what fetch and undici hand out)', async () => {
    const bytes = randomBytes(50_000);
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 20_000));
        controller.enqueue(bytes.subarray(20_000));
        controller.close();
      },
    });
    expect(await store.put(web)).toEqual({ sha256: sha256Of(bytes), size: 50_000, created: true });
  });

  it('stores an empty blob', async () => {
    const result = await store.put(new Uint8Array(0));
    expect(result.size).toBe(0);
    const read = await store.get(result.sha256);
    expect(read.length).toBe(0);
    expect((await readAll(read.stream)).length).toBe(0);
  });

  it('reports created: false for content it already holds', async () => {
    const bytes = Buffer.from('same content');
    expect((await store.put(bytes)).created).toBe(true);
    expect((await store.put(bytes)).created).toBe(false);
  });

  it('handles concurrent puts of the same content: one blob, exactly one creator, no temp files', async () => {
    const bytes = randomBytes(256 * 1024);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => {
        // Small chunks interleave the writers at the filesystem level.
        const chunks = Array.from({ length: 64 }, (_, index) => bytes.subarray(index * 4096, (index + 1) * 4096));
        return store.put(Readable.from(chunks));
      }),
    );
    expect(new Set(results.map((result) => result.sha256))).toEqual(new Set([sha256Of(bytes)]));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await listFiles(root)).toHaveLength(1);
    expect((await readAll((await store.get(sha256Of(bytes))).stream)).equals(bytes)).toBe(true);
  });

  it('leaves no partial blob and no temp file when the source fails midway', async () => {
    const chunks = [randomBytes(64 * 1024), randomBytes(64 * 1024)];
    await expect(store.put(failingSource(chunks))).rejects.toThrow('connection reset');
    expect(await listFiles(root)).toEqual([]);
  });

  it('aborts a stalled put on signal and leaves nothing behind', async () => {
    const source = new PassThrough();
    const controller = new AbortController();
    const putting = store.put(source, { signal: controller.signal });
    source.write(randomBytes(32 * 1024));
    // Wait until the first chunk reached the temp file, so the abort truly happens midway.
    const tempDir = join(root, '.tmp');
    await waitFor(async () => {
      const [name] = await readdir(tempDir);
      return name !== undefined && (await stat(join(tempDir, name))).size === 32 * 1024;
    });
    controller.abort(new Error('client went away'));
    await expect(putting).rejects.toMatchObject({ code: 'MF_ERR_BLOB_PUT_ABORTED', statusCode: 400 });
    expect(await listFiles(root)).toEqual([]);
  });

  it('refuses a put over maxBytes, leaving nothing behind', async () => {
    const chunks = Array.from({ length: 10 }, () => randomBytes(1000));
    await expect(store.put(Readable.from(chunks), { maxBytes: 4500 })).rejects.toMatchObject({
      code: 'MF_ERR_BLOB_TOO_LARGE',
      statusCode: 413,
    });
    await expect(store.put(randomBytes(10), { maxBytes: 9 })).rejects.toMatchObject({ code: 'MF_ERR_BLOB_TOO_LARGE' });
    expect(await listFiles(root)).toEqual([]);
    expect((await store.put(randomBytes(4500), { maxBytes: 4500 })).size).toBe(4500);
  });

  it('refuses content that does not hash to the expected address, leaving nothing behind', async () => {
    const bytes = randomBytes(5000);
    const wrong = sha256Of(Buffer.from('something else'));
    await expect(store.put(bytes, { expectedSha256: wrong })).rejects.toMatchObject({
      code: 'MF_ERR_BLOB_HASH_MISMATCH',
      statusCode: 422,
    });
    expect(await listFiles(root)).toEqual([]);
    expect((await store.put(bytes, { expectedSha256: sha256Of(bytes) })).created).toBe(true);
  });

  it('reads inclusive byte ranges', async () => {
    const bytes = Buffer.from('0123456789abcdef');
    const { sha256 } = await store.put(bytes);
    const middle = await store.get(sha256, { start: 3, end: 7 });
    expect(middle).toMatchObject({ size: 16, start: 3, end: 7, length: 5 });
    expect(await text(middle.stream)).toBe('34567');
    expect(await text((await store.get(sha256, { start: 15, end: 15 })).stream)).toBe('f');
    expect(await text((await store.get(sha256, { start: 0, end: 15 })).stream)).toBe('0123456789abcdef');
  });

  it('rejects unsatisfiable ranges with 416', async () => {
    const { sha256 } = await store.put(Buffer.from('0123456789'));
    for (const range of [
      { start: 5, end: 10 },
      { start: 6, end: 5 },
      { start: -1, end: 3 },
      { start: 10, end: 10 },
      { start: 0.5, end: 3 },
    ]) {
      await expect(store.get(sha256, range)).rejects.toMatchObject({
        code: 'MF_ERR_BLOB_RANGE_NOT_SATISFIABLE',
        statusCode: 416,
      });
    }
  });

  it('reports absent blobs with 404 and malformed addresses with 400', async () => {
    const absent = sha256Of(Buffer.from('never stored'));
    await expect(store.get(absent)).rejects.toMatchObject({ code: 'MF_ERR_BLOB_NOT_FOUND', statusCode: 404 });
    expect(await store.stat(absent)).toBeUndefined();
    expect(await store.exists(absent)).toBe(false);
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({
      code: 'MF_ERR_BLOB_INVALID_ADDRESS',
      statusCode: 400,
    });
    await expect(store.get(absent.toUpperCase())).rejects.toMatchObject({ code: 'MF_ERR_BLOB_INVALID_ADDRESS' });
  });

  it('deletes a blob; a reader that opened it first still reads it whole', async () => {
    const bytes = randomBytes(300_000);
    const { sha256 } = await store.put(bytes);
    const read = await store.get(sha256);
    expect(await store.delete(sha256)).toBe(true);
    expect(await store.delete(sha256)).toBe(false);
    expect(await store.exists(sha256)).toBe(false);
    expect((await readAll(read.stream)).equals(bytes)).toBe(true);
  });

  it('removes stale temp files at start and keeps fresh ones (a put in progress elsewhere)', async () => {
    const tempDir = join(root, '.tmp');
    const stale = join(tempDir, 'crashed.part');
    const fresh = join(tempDir, 'in-progress.part');
    await writeFile(stale, 'half a blob');
    await writeFile(fresh, 'half a blob');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await createFsBlobStore({ root });
    await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(fresh)).isFile()).toBe(true);
  });

  it('pings when the root is usable and fails with 503 when it is gone', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await rm(root, { recursive: true, force: true });
    await expect(store.ping()).rejects.toMatchObject({ code: 'MF_ERR_BLOB_STORE_UNAVAILABLE', statusCode: 503 });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
