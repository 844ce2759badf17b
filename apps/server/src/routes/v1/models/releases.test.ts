import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicKeys, Release, ReleaseManifest, VersionAccepted } from '@modelfleet/contracts';
import { loadDemoModelFiles } from '@modelfleet/demo-models';
import { MANIFEST_KIND } from '@modelfleet/releases';
import { publicKeyFromBase64, verifyEnvelope } from '@modelfleet/signing';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import {
  createKey,
  createLine,
  DEMO_PREPROCESSING,
  postDataset,
  postVersion,
  QUICK_POLICY,
  rowCounts,
  syntheticDatasetFile,
  waitForVersion,
} from '../../../testing/api.js';
import { readBlobBytes as readBlob } from '@modelfleet/storage';

describe('releases', () => {
  let server: TestServer;
  const LINE = 'rel-sorter';
  const BARE = 'rel-bare';
  /** A ready version of LINE (its winner is publishable) and a failed one of BARE (no winner). */
  let ready: string;
  let failed: string;

  beforeAll(async () => {
    server = await startTestServer();
    await createLine(server, LINE, { policy: QUICK_POLICY });
    await createLine(server, BARE, { policy: QUICK_POLICY });
    expect(
      (await postDataset(server, LINE, { filename: 'test.mfds', bytes: syntheticDatasetFile({ count: 20 }) }))
        .statusCode,
    ).toBe(201);
    const files = loadDemoModelFiles('mobilenet-v1-025-64');
    const a = await postVersion(server, LINE, files);
    const b = await postVersion(server, BARE, files);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    ready = a.json<VersionAccepted>().id;
    failed = b.json<VersionAccepted>().id;
    expect((await waitForVersion(server, LINE, ready)).status).toBe('ready');
    expect((await waitForVersion(server, BARE, failed)).status).toBe('failed');
  }, 150_000);
  afterAll(async () => {
    await server?.close();
  });

  const publish = (line: string, payload: object, key?: string) =>
    server.app.inject({ method: 'POST', url: `/v1/models/${line}/releases`, headers: server.auth(key), payload });

  it("publishes a ready version's winner as release 1, then 2: the number only grows", async () => {
    const first = await publish(LINE, { version: ready });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json<Release>()).toMatchObject({ line: LINE, channel: 'stable', number: 1 });
    const second = await publish(LINE, { version: ready });
    expect(second.statusCode).toBe(201);
    expect(second.json<Release>()).toMatchObject({ channel: 'stable', number: 2 });
    // Another channel counts on its own.
    const beta = await publish(LINE, { version: ready, channel: 'beta' });
    expect(beta.json<Release>()).toMatchObject({ channel: 'beta', number: 1 });

    const list = await server.app.inject({
      method: 'GET',
      url: `/v1/models/${LINE}/releases?channel=stable`,
      headers: server.auth(),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: Release[] }>().items.map((r) => r.number)).toEqual([2, 1]);
    const version = await waitForVersion(server, LINE, ready);
    expect(version.releaseNumbers).toEqual(
      expect.arrayContaining([
        { channel: 'stable', number: 1 },
        { channel: 'stable', number: 2 },
        { channel: 'beta', number: 1 },
      ]),
    );
  });

  it('signs a manifest that verifies with the key from /v1/keys and names the winner artifact by its content hash', async () => {
    const response = await publish(LINE, { version: ready });
    expect(response.statusCode).toBe(201);
    const release = response.json<Release>();

    const keys = (await server.app.inject({ method: 'GET', url: '/v1/keys' })).json<PublicKeys>();
    expect(keys.keys).toHaveLength(1);
    const trusted = keys.keys.map((key) => publicKeyFromBase64(key.publicKey));
    const manifest = verifyEnvelope<ReleaseManifest>(MANIFEST_KIND, release.manifest, trusted);
    expect(MANIFEST_KIND).toBe('release-manifest');
    expect(manifest).toMatchObject({
      schema: 'modelfleet.release/v1',
      line: LINE,
      channel: 'stable',
      release: release.number,
    });
    expect(manifest.preprocessing).toEqual(DEMO_PREPROCESSING);

    const version = await waitForVersion(server, LINE, ready);
    const winner = version.candidates.find((c) => c.winner)!;
    expect(manifest.artifact).toMatchObject({
      sha256: winner.artifactSha256,
      variant: winner.variant,
      encoding: winner.encoding,
    });
    // The bytes in the blob store hash to what the manifest says, and are as long.
    const bytes = await readBlob(server.services.blobs, manifest.artifact.sha256);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.artifact.sha256);
    expect(bytes.length).toBe(manifest.artifact.size);
    expect(release.artifactSha256).toBe(manifest.artifact.sha256);

    // Negative controls: a changed manifest, or a key that is not the server's, does not verify.
    const tampered = structuredClone(release.manifest);
    tampered.signed.release += 1;
    expect(() => verifyEnvelope(MANIFEST_KIND, tampered, trusted)).toThrow(
      expect.objectContaining({ code: 'MF_ERR_SIGNATURE_INVALID' }),
    );
    const stranger = publicKeyFromBase64(Buffer.alloc(32, 1).toString('base64'));
    expect(() => verifyEnvelope(MANIFEST_KIND, release.manifest, [stranger])).toThrow();
  });

  it('publishes a chosen candidate by id', async () => {
    const version = await waitForVersion(server, LINE, ready);
    const loser = version.candidates.find((c) => !c.winner)!;
    const response = await publish(LINE, { candidateId: loser.id, channel: 'override' });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json<Release>()).toMatchObject({
      number: 1,
      variant: loser.variant,
      artifactSha256: loser.artifactSha256,
    });
  });

  it('refuses a key without the publish scope with 403 and publishes nothing', async () => {
    const before = await rowCounts(server);
    for (const scopes of [['read'], ['upload']]) {
      const response = await publish(LINE, { version: ready }, await createKey(server, scopes));
      expect(response.statusCode, scopes.join()).toBe(403);
      expect(response.json().code).toBe('MF_ERR_SCOPE_MISSING');
    }
    expect((await rowCounts(server)).releases).toBe(before.releases);
    // A publish-only key may.
    const ok = await publish(LINE, { version: ready }, await createKey(server, ['publish']));
    expect(ok.statusCode).toBe(201);
  });

  it('refuses a version without a winner with 409 MF_ERR_VERSION_NOT_READY', async () => {
    const before = await rowCounts(server);
    const response = await publish(BARE, { version: failed });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('MF_ERR_VERSION_NOT_READY');
    expect(await rowCounts(server)).toEqual(before);
  });

  it('refuses an unknown version or candidate (404) and a request naming both or neither (400)', async () => {
    const before = await rowCounts(server);
    const unknown = '01a228ea-0000-7000-8000-000000000000';
    const cases: [object, number, string][] = [
      [{ version: unknown }, 404, 'MF_ERR_VERSION_NOT_FOUND'],
      // A version of another line is unknown here.
      [{ version: failed }, 404, 'MF_ERR_VERSION_NOT_FOUND'],
      [{ candidateId: unknown }, 404, 'MF_ERR_CANDIDATE_NOT_FOUND'],
      [{}, 400, 'MF_ERR_REQUEST_INVALID'],
      [{ version: ready, candidateId: unknown }, 400, 'MF_ERR_REQUEST_INVALID'],
      [{ version: ready, channel: 'Not A Channel' }, 400, 'MF_ERR_REQUEST_INVALID'],
    ];
    for (const [body, status, code] of cases) {
      const response = await publish(LINE, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.json().code, JSON.stringify(body)).toBe(code);
    }
    expect(await rowCounts(server)).toEqual(before);
  });
});
