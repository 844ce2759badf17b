import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '@modelfleet/contracts';
import { decodeDataset, encodeDataset, generateSynthetic, SYNTHETIC_CLASS_NAMES } from '@modelfleet/datasets';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { blobFiles } from '../../../testing/blob-files.js';
import { createLine, postDataset, rowCounts, syntheticDatasetFile } from '../../../testing/api.js';
import { classFolderZip, solidPng } from '../../../testing/zip.js';

/** Archives may hold this many entries here, so the too-many case stays a small file. */
const MAX_ENTRIES = 12;
/** And expand to this many bytes (the valid zip below holds ten tiny PNGs, about 2 KB). */
const MAX_EXPANDED_BYTES = 16 * 1024;

describe('datasets', () => {
  let server: TestServer;
  const LINE = 'ds-sorter';
  beforeAll(async () => {
    server = await startTestServer({
      ARCHIVE_MAX_ENTRIES: String(MAX_ENTRIES),
      ARCHIVE_MAX_EXPANDED_BYTES: String(MAX_EXPANDED_BYTES),
    });
    await createLine(server, LINE);
    await createLine(server, 'ds-pets', {
      preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['cat', 'dog'] },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** Asserts a refused request left no dataset row, no blob row and no blob file behind. */
  async function expectRefused(
    send: () => ReturnType<typeof postDataset>,
    status: number,
    code: string,
  ): Promise<void> {
    const rows = await rowCounts(server);
    const files = await blobFiles(server.dataDir);
    const response = await send();
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json()).toMatchObject({ statusCode: status, code });
    expect(await rowCounts(server)).toEqual(rows);
    expect(await blobFiles(server.dataDir)).toEqual(files);
  }

  it('adds a dataset file (.mfds) as a test set: 201 with its counts, one row, one blob', async () => {
    const filesBefore = await blobFiles(server.dataDir);
    const bytes = syntheticDatasetFile({ count: 20 });
    const response = await postDataset(
      server,
      LINE,
      { filename: 'test.mfds', bytes },
      { role: 'test', name: 'synthetic 20' },
    );
    expect(response.statusCode, response.body).toBe(201);
    const dataset = response.json<Dataset>();
    expect(dataset).toMatchObject({ role: 'test', name: 'synthetic 20', sampleCount: 20 });
    expect(dataset.classCounts).toEqual(Object.fromEntries(SYNTHETIC_CLASS_NAMES.map((name) => [name, 4])));
    const row = await server.services.db.prisma.dataset.findUniqueOrThrow({ where: { id: dataset.id } });
    expect(row.blobSha256).toBe(dataset.sha256);
    const stored = await server.services.blobs.stat(dataset.sha256);
    expect(stored?.size).toBeGreaterThan(0);
    expect((await blobFiles(server.dataDir)).length).toBe(filesBefore.length + 1);
  });

  it('adds a .zip of class folders as a calibration set, resized to the line input, and keeps only the dataset blob', async () => {
    const filesBefore = await blobFiles(server.dataDir);
    const zip = await classFolderZip(SYNTHETIC_CLASS_NAMES, 2, { size: 40 });
    const response = await postDataset(
      server,
      LINE,
      { filename: 'calibration.zip', bytes: zip },
      { role: 'calibration' },
    );
    expect(response.statusCode, response.body).toBe(201);
    const dataset = response.json<Dataset>();
    expect(dataset).toMatchObject({ role: 'calibration', name: 'calibration.zip', sampleCount: 10 });
    expect(dataset.classCounts).toEqual(Object.fromEntries(SYNTHETIC_CLASS_NAMES.map((name) => [name, 2])));
    // The stored blob is the engine-format dataset at 64x64, not the uploaded zip.
    const { stream } = await server.services.blobs.get(dataset.sha256);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const decoded = decodeDataset(new Uint8Array(Buffer.concat(chunks)));
    expect([decoded.height, decoded.width, decoded.labels.length]).toEqual([64, 64, 10]);
    expect((await blobFiles(server.dataDir)).length).toBe(filesBefore.length + 1);
  });

  it('lists datasets, by role too', async () => {
    const all = await server.app.inject({ method: 'GET', url: `/v1/models/${LINE}/datasets`, headers: server.auth() });
    expect(all.statusCode).toBe(200);
    expect(all.json<{ items: Dataset[] }>().items.map((item) => item.role)).toEqual(['test', 'calibration']);
    const tests = await server.app.inject({
      method: 'GET',
      url: `/v1/models/${LINE}/datasets?role=calibration`,
      headers: server.auth(),
    });
    expect(tests.json<{ items: Dataset[] }>().items.map((item) => item.sampleCount)).toEqual([10]);
  });

  it('refuses a dataset file whose classes are not the line classes: 422 MF_ERR_DATASET_CLASSES_MISMATCH', async () => {
    const bytes = syntheticDatasetFile({ count: 10, seed: 3 });
    await expectRefused(
      () => postDataset(server, 'ds-pets', { filename: 'test.mfds', bytes }),
      422,
      'MF_ERR_DATASET_CLASSES_MISMATCH',
    );
    // Same classes in another order would silently swap labels: refused as well.
    const synthetic = generateSynthetic({ seed: 4, count: 10, size: 64 });
    const reordered = encodeDataset({ ...synthetic, classNames: [...synthetic.classNames].reverse() });
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'reordered.mfds', bytes: reordered }),
      422,
      'MF_ERR_DATASET_CLASSES_MISMATCH',
    );
    // And images at another size than the line's input.
    const small = syntheticDatasetFile({ count: 10, size: 32 });
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'small.mfds', bytes: small }),
      422,
      'MF_ERR_DATASET_CLASSES_MISMATCH',
    );
  });

  it('refuses an archive with a class folder the line does not have: 422, nothing stored', async () => {
    const zip = await classFolderZip(['cat', 'dog', 'hamster'], 1);
    await expectRefused(
      () => postDataset(server, 'ds-pets', { filename: 'pets.zip', bytes: zip }),
      422,
      'MF_ERR_DATASET_CLASSES_MISMATCH',
    );
  });

  it('refuses an archive entry ../evil.png: 422 MF_ERR_ARCHIVE_UNSAFE_PATH, nothing stored', async () => {
    const zip = await classFolderZip(SYNTHETIC_CLASS_NAMES, 1, {
      extra: { '../evil.png': await solidPng(8, [255, 0, 0]) },
    });
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'evil.zip', bytes: zip }),
      422,
      'MF_ERR_ARCHIVE_UNSAFE_PATH',
    );
    const absolute = await classFolderZip(SYNTHETIC_CLASS_NAMES, 1, {
      extra: { '/etc/evil.png': await solidPng(8, [255, 0, 0]) },
    });
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'absolute.zip', bytes: absolute }),
      422,
      'MF_ERR_ARCHIVE_UNSAFE_PATH',
    );
  });

  it(`refuses an archive of more than ARCHIVE_MAX_ENTRIES (${MAX_ENTRIES}) entries: 413 MF_ERR_ARCHIVE_TOO_MANY_ENTRIES`, async () => {
    const zip = await classFolderZip(SYNTHETIC_CLASS_NAMES, 3); // 15 entries
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'many.zip', bytes: zip }, { role: 'train' }),
      413,
      'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
    );
  });

  it('refuses an archive that expands past ARCHIVE_MAX_EXPANDED_BYTES: 413 MF_ERR_ARCHIVE_TOO_LARGE', async () => {
    // 1 MB of zeros deflates to about a kilobyte: small on the wire, refused from its declared size before inflating.
    const bomb = zipSync({ 'carton/big.png': [new Uint8Array(1024 * 1024), { level: 9 }] });
    expect(bomb.length).toBeLessThan(MAX_EXPANDED_BYTES);
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'bomb.zip', bytes: bomb }),
      413,
      'MF_ERR_ARCHIVE_TOO_LARGE',
    );
  });

  it('refuses a missing or unknown role and a missing file with 400, nothing stored', async () => {
    const bytes = syntheticDatasetFile({ count: 10, seed: 5 });
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'test.mfds', bytes }, {}),
      400,
      'MF_ERR_UPLOAD_INVALID',
    );
    await expectRefused(
      () => postDataset(server, LINE, { filename: 'test.mfds', bytes }, { role: 'validation' }),
      400,
      'MF_ERR_UPLOAD_INVALID',
    );
    await expectRefused(() => postDataset(server, LINE, undefined, { role: 'test' }), 400, 'MF_ERR_UPLOAD_INVALID');
    const json = await server.app.inject({
      method: 'POST',
      url: `/v1/models/${LINE}/datasets`,
      headers: server.auth(),
      payload: { role: 'test' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().code).toBe('MF_ERR_UPLOAD_INVALID');
  });

  it('refuses a file that is neither a dataset nor an archive with 422, nothing stored', async () => {
    await expectRefused(
      () =>
        postDataset(server, LINE, { filename: 'notes.txt', bytes: new TextEncoder().encode('not a dataset at all') }),
      422,
      'MF_ERR_ARCHIVE_INVALID',
    );
  });

  it('refuses an upload to an unknown line with 404, nothing stored', async () => {
    const bytes = syntheticDatasetFile({ count: 10, seed: 6 });
    await expectRefused(
      () => postDataset(server, 'no-such-line', { filename: 'test.mfds', bytes }),
      404,
      'MF_ERR_LINE_NOT_FOUND',
    );
  });

  it('concurrent uploads of the same bytes: a refused one never removes the blob an accepted one records', async () => {
    // Each round sends new bytes twice at once: to a line whose classes they match (201) and to one
    // whose classes they do not (422). Which request stores the blob first varies from round to round.
    for (let round = 0; round < 8; round++) {
      const bytes = syntheticDatasetFile({ count: 5, seed: 1000 + round });
      const [refused, accepted] = await Promise.all([
        postDataset(server, 'ds-pets', { filename: 'race.mfds', bytes }),
        postDataset(server, LINE, { filename: 'race.mfds', bytes }, { role: 'train' }),
      ]);
      expect(refused.statusCode, `round ${round}`).toBe(422);
      expect(accepted.statusCode, `round ${round}: ${accepted.body}`).toBe(201);
      expect(await server.services.blobs.exists(accepted.json<Dataset>().sha256), `round ${round}`).toBe(true);
    }
    // Two refusals of the same bytes at once leave nothing either.
    const files = await blobFiles(server.dataDir);
    const bytes = syntheticDatasetFile({ count: 5, seed: 2000 });
    const both = await Promise.all([
      postDataset(server, 'ds-pets', { filename: 'a.mfds', bytes }),
      postDataset(server, 'ds-pets', { filename: 'b.mfds', bytes }),
    ]);
    expect(both.map((response) => response.statusCode)).toEqual([422, 422]);
    expect(await blobFiles(server.dataDir)).toEqual(files);
    // Every blob file is a recorded blob, and every dataset's blob is there.
    const { prisma } = server.services.db;
    expect(files).toHaveLength(await prisma.blob.count());
    for (const dataset of await prisma.dataset.findMany()) {
      expect(await server.services.blobs.exists(dataset.blobSha256)).toBe(true);
    }
  });

  it('deletes a dataset, and its blob once no other dataset uses it', async () => {
    const bytes = syntheticDatasetFile({ count: 10, seed: 8 });
    const first = (await postDataset(server, LINE, { filename: 'a.mfds', bytes }, { role: 'train' })).json<Dataset>();
    const second = (await postDataset(server, LINE, { filename: 'b.mfds', bytes }, { role: 'train' })).json<Dataset>();
    expect(second.sha256).toBe(first.sha256);
    const files = await blobFiles(server.dataDir);
    const del = (id: string) =>
      server.app.inject({ method: 'DELETE', url: `/v1/models/${LINE}/datasets/${id}`, headers: server.auth() });

    expect((await del(first.id)).statusCode).toBe(204);
    // The other dataset still uses the content: the blob stays.
    expect(await blobFiles(server.dataDir)).toEqual(files);
    expect(await server.services.blobs.exists(first.sha256)).toBe(true);

    expect((await del(second.id)).statusCode).toBe(204);
    expect((await blobFiles(server.dataDir)).length).toBe(files.length - 1);
    expect(await server.services.blobs.exists(first.sha256)).toBe(false);
    expect(await server.services.db.prisma.blob.count({ where: { sha256: first.sha256 } })).toBe(0);

    const again = await del(second.id);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('MF_ERR_DATASET_NOT_FOUND');
  });
});
