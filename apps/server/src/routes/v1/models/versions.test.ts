import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelVersion, VersionAccepted } from '@modelfleet/contracts';
import { loadDemoModelFiles } from '@modelfleet/demo-models';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { blobFiles } from '../../../testing/blob-files.js';
import {
  createKey,
  createLine,
  postDataset,
  postVersion,
  QUICK_POLICY,
  rowCounts,
  syntheticDatasetFile,
  waitForVersion,
} from '../../../testing/api.js';
import { multipart } from '../../../testing/multipart.js';
import { zipFiles } from '../../../testing/zip.js';

const SHARD = 'group1-shard1of1.bin';
/** The demo model is about 925 KB; uploads may be 1.5 MB here so one over the limit stays small. */
const UPLOAD_LIMIT = 1_500_000;

/** The demo model's files, a fresh copy each call so a test can break one without touching the others. */
function demoFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of loadDemoModelFiles('mobilenet-v1-025-64')) files.set(name, new Uint8Array(bytes));
  return files;
}

/** The part of model.json the edits below touch. */
interface ModelJson {
  modelTopology: { config: { layers: { class_name: string }[] } };
}

function editModelJson(files: Map<string, Uint8Array>, edit: (json: ModelJson) => void): Map<string, Uint8Array> {
  const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as ModelJson;
  edit(json);
  files.set('model.json', new TextEncoder().encode(JSON.stringify(json)));
  return files;
}

describe('versions', () => {
  let server: TestServer;
  /** A line with a small test set and a one-candidate policy: its optimize job takes seconds. */
  const LINE = 'v-sorter';
  /** A line without any dataset: its versions fail with MF_ERR_DATASET_MISSING. */
  const BARE = 'v-bare';
  beforeAll(async () => {
    server = await startTestServer({ MODEL_UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT) });
    await createLine(server, LINE, { policy: QUICK_POLICY });
    await createLine(server, BARE, { policy: QUICK_POLICY });
    const test = await postDataset(server, LINE, { filename: 'test.mfds', bytes: syntheticDatasetFile({ count: 20 }) });
    expect(test.statusCode).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  describe('refused uploads store nothing (they run before any upload is accepted, so every blob they send is new)', () => {
    async function expectRefused(
      send: () => Promise<{ statusCode: number; body: string; json(): unknown }>,
      status: number,
      code: string,
    ): Promise<void> {
      const rows = await rowCounts(server);
      const files = await blobFiles(server.dataDir);
      const response = await send();
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json()).toMatchObject({ statusCode: status, code });
      expect(await rowCounts(server)).toEqual(rows);
      expect(rows.versions).toBe(0);
      expect(await blobFiles(server.dataDir)).toEqual(files);
    }

    it('malformed model.json: 422 MF_ERR_MODEL_JSON_INVALID', async () => {
      const files = demoFiles();
      files.set('model.json', new TextEncoder().encode('{"modelTopology": {"class_name": "Model", '));
      await expectRefused(() => postVersion(server, LINE, files), 422, 'MF_ERR_MODEL_JSON_INVALID');
    });

    it('a shard missing: 422 MF_ERR_SHARD_MISSING', async () => {
      const files = demoFiles();
      files.delete(SHARD);
      await expectRefused(() => postVersion(server, LINE, files), 422, 'MF_ERR_SHARD_MISSING');
    });

    it('a shard of the wrong length: 422 MF_ERR_SHARD_SIZE_MISMATCH', async () => {
      const files = demoFiles();
      files.set(SHARD, files.get(SHARD)!.subarray(0, files.get(SHARD)!.length - 4));
      await expectRefused(() => postVersion(server, LINE, files), 422, 'MF_ERR_SHARD_SIZE_MISMATCH');
    });

    it('NaN weights: 422 MF_ERR_WEIGHTS_NOT_FINITE', async () => {
      const files = demoFiles();
      const shard = files.get(SHARD)!;
      // The first weight of the manifest is conv1/kernel, float32: its first value becomes NaN.
      new DataView(shard.buffer, shard.byteOffset, shard.byteLength).setFloat32(0, Number.NaN, true);
      await expectRefused(() => postVersion(server, LINE, files), 422, 'MF_ERR_WEIGHTS_NOT_FINITE');
    });

    it('an unsupported layer: 422 MF_ERR_LAYER_UNSUPPORTED', async () => {
      const files = editModelJson(demoFiles(), (json) => {
        const layer = json.modelTopology.config.layers.find((l) => l.class_name === 'ReLU');
        layer!.class_name = 'LSTM';
      });
      await expectRefused(() => postVersion(server, LINE, files), 422, 'MF_ERR_LAYER_UNSUPPORTED');
    });

    it('an upload over MODEL_UPLOAD_MAX_BYTES: 413 MF_ERR_UPLOAD_TOO_LARGE', async () => {
      const files = demoFiles();
      files.set('notes.bin', new Uint8Array(UPLOAD_LIMIT - 900_000).fill(7));
      await expectRefused(() => postVersion(server, LINE, files), 413, 'MF_ERR_UPLOAD_TOO_LARGE');
    });

    it('an archive with an entry ../model.json or an absolute path: 422 MF_ERR_ARCHIVE_UNSAFE_PATH', async () => {
      const files = demoFiles();
      const archive = zipFiles({ '../model.json': files.get('model.json')!, [SHARD]: files.get(SHARD)! });
      await expectRefused(() => postVersion(server, LINE, [['archive', archive]]), 422, 'MF_ERR_ARCHIVE_UNSAFE_PATH');
      const absolute = zipFiles({ 'model.json': files.get('model.json')!, [`/tmp/${SHARD}`]: files.get(SHARD)! });
      await expectRefused(() => postVersion(server, LINE, [['archive', absolute]]), 422, 'MF_ERR_ARCHIVE_UNSAFE_PATH');
    });

    it('no files, a body that is not multipart, an unknown line, a read-only key', async () => {
      await expectRefused(
        async () => {
          const body = await multipart([{ field: 'note', value: 'no files here' }]);
          return server.app.inject({
            method: 'POST',
            url: `/v1/models/${LINE}/versions`,
            headers: { ...server.auth(), ...body.headers },
            payload: body.payload,
          });
        },
        400,
        'MF_ERR_UPLOAD_INVALID',
      );
      await expectRefused(
        () =>
          server.app.inject({
            method: 'POST',
            url: `/v1/models/${LINE}/versions`,
            headers: server.auth(),
            payload: { model: 'x' },
          }),
        400,
        'MF_ERR_UPLOAD_INVALID',
      );
      await expectRefused(() => postVersion(server, 'no-such-line', demoFiles()), 404, 'MF_ERR_LINE_NOT_FOUND');
      const readKey = await createKey(server, ['read']);
      await expectRefused(() => postVersion(server, LINE, demoFiles(), readKey), 403, 'MF_ERR_SCOPE_MISSING');
    });
  });

  describe('accepted uploads', () => {
    let accepted: VersionAccepted;

    it('answers 202 with a status URL and records the version (the upload may exceed BODY_LIMIT_BYTES)', async () => {
      const files = demoFiles();
      // A part the manifest does not name: received within the upload limit, then not kept.
      const readme = new Uint8Array(200_000).fill(0x2e);
      files.set('README.txt', readme);
      const total = [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0);
      expect(total).toBeGreaterThan(server.config.bodyLimitBytes);
      const response = await postVersion(server, LINE, files);
      expect(response.statusCode, response.body).toBe(202);
      accepted = response.json<VersionAccepted>();
      expect(accepted.statusUrl).toBe(`/v1/models/${LINE}/versions/${accepted.id}`);
      const row = await server.services.db.prisma.modelVersion.findUniqueOrThrow({ where: { id: accepted.id } });
      expect(row.sourceBytes).toBe(total - readme.length);
      // model.json and its shard are kept as uploaded.
      expect(await server.services.blobs.exists(row.modelJsonSha256)).toBe(true);
      expect(row.weightShardSha256s).toHaveLength(1);
      expect(await server.services.blobs.exists(createHash('sha256').update(readme).digest('hex'))).toBe(false);
    });

    it('runs the optimize job to ready, with every candidate of the policy measured and a winner', async () => {
      const seen: ModelVersion[] = [];
      const version = await waitForVersion(server, LINE, accepted.id, ['ready', 'failed'], 90_000, (v) => seen.push(v));
      expect(version.error).toBeNull();
      // Progress only moves forward, through the job's stages in order.
      const percents = seen.map((v) => v.progress.percent);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      const stageOrder = [null, 'load', 'evaluate', 'store', 'publish', 'done'];
      const stages = seen.map((v) => stageOrder.indexOf(v.progress.stage));
      expect(stages.every((index) => index >= 0)).toBe(true);
      expect(stages).toEqual([...stages].sort((a, b) => a - b));
      expect(version.status).toBe('ready');
      expect(version.progress).toEqual({ stage: 'done', percent: 100 });
      // The float32 original (theta0) is always measured too: it is the baseline.
      expect(version.candidates.map((c) => c.variant).sort()).toEqual(['theta0', 'theta4']);
      for (const candidate of version.candidates) {
        expect(candidate.fileBytes, candidate.variant).toBeGreaterThan(0);
        expect(candidate.accuracy, candidate.variant).toBeGreaterThanOrEqual(0);
        expect(candidate.accuracy, candidate.variant).toBeLessThanOrEqual(100);
        expect(candidate.latencyMedianMs, candidate.variant).toBeGreaterThan(0);
        expect(candidate.latencyP90Ms, candidate.variant).toBeGreaterThanOrEqual(candidate.latencyMedianMs);
        expect(Number.isFinite(candidate.objective), candidate.variant).toBe(true);
        expect(await server.services.blobs.exists(candidate.artifactSha256), candidate.variant).toBe(true);
      }
      const float = version.candidates.find((c) => c.variant === 'theta0')!;
      const half = version.candidates.find((c) => c.variant === 'theta4')!;
      // float16 weights: about half the file.
      expect(half.fileBytes).toBeLessThan(float.fileBytes * 0.6);
      expect(version.candidates.filter((c) => c.winner)).toHaveLength(1);
      expect(version.selection?.winnerVariant).toBe(version.candidates.find((c) => c.winner)!.variant);
      // autoPublish is off for this line.
      expect(version.releaseNumbers).toEqual([]);
      expect(await server.services.db.prisma.candidate.count({ where: { versionId: accepted.id } })).toBe(2);
    }, 120_000);

    it('answers the candidate table as markdown and as CSV', async () => {
      const url = `/v1/models/${LINE}/versions/${accepted.id}`;
      const markdown = await server.app.inject({
        method: 'GET',
        url: `${url}?format=markdown`,
        headers: server.auth(),
      });
      expect(markdown.statusCode).toBe(200);
      expect(markdown.headers['content-type']).toMatch(/^text\/markdown/);
      expect(markdown.body).toContain('| variant | encoding | test acc % |');
      expect(markdown.body).toMatch(/\| theta4 \|/);
      expect(markdown.body).toMatch(/\| theta0 \|/);
      expect(markdown.body).toContain('decision: ');

      const csv = await server.app.inject({ method: 'GET', url: `${url}?format=csv`, headers: server.auth() });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = csv.body.trimEnd().split('\n');
      expect(rows[0]).toMatch(/^variant,encoding,test acc %,/);
      expect(rows).toHaveLength(3);
      expect(
        rows
          .slice(1)
          .map((row) => row.split(',')[0])
          .sort(),
      ).toEqual(['theta0', 'theta4']);

      const json = await server.app.inject({ method: 'GET', url, headers: server.auth() });
      expect(json.headers['content-type']).toMatch(/^application\/json/);
    });

    it("lists the line's versions", async () => {
      const response = await server.app.inject({
        method: 'GET',
        url: `/v1/models/${LINE}/versions`,
        headers: server.auth(),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json<{ items: ModelVersion[] }>().items.map((v) => v.id)).toEqual([accepted.id]);
    });

    it('takes one archive of the model folder (202); without a test set the version fails with MF_ERR_DATASET_MISSING', async () => {
      const files = demoFiles();
      const archive = zipFiles({
        'mobilenet/model.json': files.get('model.json')!,
        [`mobilenet/${SHARD}`]: files.get(SHARD)!,
      });
      const response = await postVersion(server, BARE, [['archive', archive]]);
      expect(response.statusCode, response.body).toBe(202);
      const id = response.json<VersionAccepted>().id;
      const version = await waitForVersion(server, BARE, id, ['ready', 'failed']);
      expect(version.status).toBe('failed');
      expect(version.error?.code).toBe('MF_ERR_DATASET_MISSING');
      expect(version.candidates).toEqual([]);
      const markdown = await server.app.inject({
        method: 'GET',
        url: `/v1/models/${BARE}/versions/${id}?format=markdown`,
        headers: server.auth(),
      });
      expect(markdown.body).toContain('error MF_ERR_DATASET_MISSING');
      // The archive itself is not kept, only model.json and its shard (already stored by the upload above).
      const row = await server.services.db.prisma.modelVersion.findUniqueOrThrow({ where: { id } });
      const first = await server.services.db.prisma.modelVersion.findFirstOrThrow({ where: { line: { name: LINE } } });
      expect(row.modelJsonSha256).toBe(first.modelJsonSha256);
      expect(row.weightShardSha256s).toEqual(first.weightShardSha256s);
    }, 120_000);

    it('takes a recorded version back when the job cannot be queued: 503, no version row, no blob left', async () => {
      // Last in this file: the queue stays closed. model.json gets new bytes; the shard is already stored and used.
      const files = editModelJson(demoFiles(), (json) => Object.assign(json, { generatedBy: 'versions.test' }));
      await server.services.queue.close({ timeoutMs: 10_000 });
      const rows = await rowCounts(server);
      const blobFilesBefore = await blobFiles(server.dataDir);
      const response = await postVersion(server, LINE, files);
      expect(response.statusCode, response.body).toBe(503);
      expect(response.json().code).toBe('MF_ERR_JOB_QUEUE_CLOSED');
      expect(await rowCounts(server)).toEqual(rows);
      expect(await blobFiles(server.dataDir)).toEqual(blobFilesBefore);
      const modelJsonSha256 = createHash('sha256').update(files.get('model.json')!).digest('hex');
      expect(await server.services.blobs.exists(modelJsonSha256)).toBe(false);
    });
  });
});
