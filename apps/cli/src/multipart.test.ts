import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client.js';
import { FileChanged } from './errors.js';
import { buildMultipartBody, filePart } from './multipart.js';
import { startMultipartServer } from './testing/multipart-server.js';
import { resolveDatasetFile, resolveVersionUpload } from './upload-source.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('multipart body', () => {
  let folder: string;
  let server: Awaited<ReturnType<typeof startMultipartServer>>;
  // A shard bigger than one read chunk, so the body is streamed in many pieces.
  const bigShard = randomBytes(3 * 1024 * 1024 + 17);
  const smallShard = randomBytes(1000);
  const modelJson = JSON.stringify({
    format: 'layers-model',
    modelTopology: {},
    weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [] }],
  });

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mf-cli-multipart-'));
    await writeFile(join(folder, 'model.json'), modelJson);
    await writeFile(join(folder, 'group1-shard1of2.bin'), bigShard);
    await writeFile(join(folder, 'group1-shard2of2.bin'), smallShard);
    server = await startMultipartServer();
  });
  afterAll(async () => {
    await server.app.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('sends model.json and every shard as parts named by file, with exact bytes and Content-Length', async () => {
    const source = await resolveVersionUpload(folder);
    const progress: number[] = [];
    let total = 0;
    const client = createApiClient({ server: server.url, key: 'mfk_test' });
    const accepted = await client.uploadVersion('sorter', source.parts, {
      onProgress: (sent, bodyLength) => {
        progress.push(sent);
        total = bodyLength;
      },
    });
    expect(accepted.status).toBe('uploaded');

    const request = server.received.at(-1);
    expect(request?.url).toBe('/v1/models/sorter/versions');
    expect(request?.authorization).toBe('Bearer mfk_test');
    expect(request?.transferEncoding).toBeUndefined();
    expect(Number(request?.contentLength)).toBe(buildMultipartBody(source.parts).length);
    expect(request?.parts).toEqual([
      {
        kind: 'file',
        fieldname: 'model.json',
        filename: 'model.json',
        mimetype: 'application/json',
        bytes: modelJson.length,
        sha256: sha256(Buffer.from(modelJson)),
      },
      {
        kind: 'file',
        fieldname: 'group1-shard1of2.bin',
        filename: 'group1-shard1of2.bin',
        mimetype: 'application/octet-stream',
        bytes: bigShard.length,
        sha256: sha256(bigShard),
      },
      {
        kind: 'file',
        fieldname: 'group1-shard2of2.bin',
        filename: 'group1-shard2of2.bin',
        mimetype: 'application/octet-stream',
        bytes: smallShard.length,
        sha256: sha256(smallShard),
      },
    ]);
    expect(source.fileBytes).toBe(modelJson.length + bigShard.length + smallShard.length);

    // Progress climbs in many steps to exactly the body's length.
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.every((sent, index) => index === 0 || sent > (progress[index - 1] ?? 0))).toBe(true);
    expect(progress.at(-1)).toBe(total);
    expect(total).toBe(Number(request?.contentLength));
  });

  it('reads files in bounded chunks, never a whole file at once', async () => {
    const source = await resolveVersionUpload(folder);
    const body = buildMultipartBody(source.parts);
    let largest = 0;
    let length = 0;
    for await (const chunk of body.stream()) {
      largest = Math.max(largest, chunk.byteLength);
      length += chunk.byteLength;
    }
    expect(length).toBe(body.length);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  it('puts the dataset role and name before the file part', async () => {
    const archive = join(folder, 'test-set.tar.gz');
    const bytes = randomBytes(5000);
    await writeFile(archive, bytes);
    const client = createApiClient({ server: server.url, key: 'mfk_test' });
    const dataset = await client.addDataset('sorter', {
      role: 'calibration',
      name: 'belt "B" ✓',
      file: await resolveDatasetFile(archive),
    });
    expect(dataset.role).toBe('calibration');
    expect(server.received.at(-1)?.parts).toEqual([
      { kind: 'field', fieldname: 'role', value: 'calibration' },
      { kind: 'field', fieldname: 'name', value: 'belt "B" ✓' },
      {
        kind: 'file',
        fieldname: 'file',
        filename: 'test-set.tar.gz',
        mimetype: 'application/gzip',
        bytes: 5000,
        sha256: sha256(bytes),
      },
    ]);
  });

  it('puts exactly Content-Length bytes on the wire', async () => {
    let wireBytes = 0;
    let declared = '';
    const raw = createServer((request, response) => {
      declared = request.headers['content-length'] ?? '';
      request.on('data', (chunk: Buffer) => (wireBytes += chunk.length));
      request.on('end', () =>
        response
          .writeHead(202, { 'content-type': 'application/json' })
          .end('{"id":"v","status":"uploaded","statusUrl":"/v"}'),
      );
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = raw.address() as AddressInfo;
      const source = await resolveVersionUpload(folder);
      await createApiClient({ server: `http://127.0.0.1:${port}` }).uploadVersion('sorter', source.parts);
      expect(wireBytes).toBe(buildMultipartBody(source.parts).length);
      expect(Number(declared)).toBe(wireBytes);
    } finally {
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('fails with MF_ERR_CLI_FILE_CHANGED when a file grows after it was measured', async () => {
    const path = join(folder, 'growing.bin');
    await writeFile(path, randomBytes(2000));
    const part = await filePart('archive', path);
    await appendFile(path, randomBytes(10));
    const client = createApiClient({ server: server.url });
    await expect(client.uploadVersion('sorter', [part])).rejects.toMatchObject({ code: FileChanged.code });
  });
});
