import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIGNED_KINDS,
  type DeviceInfo,
  type ReleaseManifest,
  type UpdateAnswer,
  type UpdateOffer,
} from '@modelfleet/contracts';
import { publicKeyFromBase64, verifyEnvelope } from '@modelfleet/signing';
import { createKey, createLine } from '../../../testing/api.js';
import { createLastSeen } from '../../../devices/last-seen.js';
import { createDeviceAuth } from '../../../devices/device-auth.js';
import { pino } from 'pino';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { hashFleetToken } from '../../../devices/tokens.js';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../../../devices/test-fleet.js';

describe('device API: enrolment, poll, reports, fleet view', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Timers that never fire during the tests: sweeps and flushes happen when a test calls them.
    server = await startTestServer({ DEVICE_AUTH_SWEEP_MS: '3600000', DEVICE_LAST_SEEN_FLUSH_MS: '3600000' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const poll = (token: string, query = '', headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url: `/v1/device/update${query}`, headers: { ...bearer(token), ...headers } });
  const report = (token: string, body: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: '/v1/device/reports', headers: bearer(token), payload: body });
  const devices = async (query = '') => {
    const response = await server.app.inject({ method: 'GET', url: `/v1/devices${query}`, headers: server.auth() });
    expect(response.statusCode).toBe(200);
    return response.json<{ items: DeviceInfo[] }>().items;
  };

  describe('enrolment tokens', () => {
    it('shows a created token once, stores only its hash and creates the channel', async () => {
      await publishTestRelease(server, 'enrol-line');
      const created = await server.app.inject({
        method: 'POST',
        url: '/v1/enrollment-tokens',
        headers: server.auth(),
        payload: {
          name: 'hall 3',
          scope: { line: 'enrol-line', channel: 'canary', tags: ['hall-3'] },
          expiresInSeconds: 3600,
        },
      });
      expect(created.statusCode).toBe(201);
      const body = created.json<{ id: string; token: string; prefix: string; expiresAt: string; scope: unknown }>();
      expect(body.token).toMatch(/^mfe_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      expect(body).toMatchObject({
        prefix: body.token.slice(4, 12),
        scope: { line: 'enrol-line', channel: 'canary', tags: ['hall-3'] },
      });
      expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);

      const row = await server.services.db.prisma.enrollmentToken.findUniqueOrThrow({ where: { id: body.id } });
      expect(row.tokenHash).toBe(hashFleetToken(body.token));
      expect(JSON.stringify(row)).not.toContain(body.token);
      const list = await server.app.inject({ method: 'GET', url: '/v1/enrollment-tokens', headers: server.auth() });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(body.token);
      expect(list.json().items.find((item: { id: string }) => item.id === body.id)).toMatchObject({
        name: 'hall 3',
        revokedAt: null,
      });

      const line = await server.services.db.prisma.modelLine.findUniqueOrThrow({ where: { name: 'enrol-line' } });
      expect(
        await server.services.db.prisma.channel.findUnique({
          where: { lineId_name: { lineId: line.id, name: 'canary' } },
        }),
      ).not.toBeNull();
    });

    it('refuses a token for a line that does not exist (404) and people without admin (403)', async () => {
      const missing = await server.app.inject({
        method: 'POST',
        url: '/v1/enrollment-tokens',
        headers: server.auth(),
        payload: { name: 'x', scope: { line: 'no-such-line', channel: 'stable' } },
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe('MF_ERR_LINE_NOT_FOUND');
      const readKey = await createKey(server, ['publish']);
      const refused = await server.app.inject({
        method: 'POST',
        url: '/v1/enrollment-tokens',
        headers: server.auth(readKey),
        payload: { name: 'x', scope: { line: 'enrol-line', channel: 'stable' } },
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('MF_ERR_SCOPE_MISSING');
    });
  });

  describe('enrol', () => {
    it('gives a device its own token (hashed in the database) on the token’s channel with both sets of tags', async () => {
      const { token } = await createTestEnrollmentToken(server, {
        line: 'enrol-line',
        channel: 'canary',
        tags: ['hall-3'],
      });
      const enrolled = await enrollTestDevice(server, token, 'sorter-a1', {
        tags: ['belt-2'],
        hardwareClass: 'rpi4',
        runtime: 'tfjs-wasm',
      });
      expect(enrolled).toMatchObject({
        deviceId: 'sorter-a1',
        line: 'enrol-line',
        channel: 'canary',
        tags: ['belt-2', 'hall-3'],
      });
      expect(enrolled.deviceToken).toMatch(/^mfd_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      const row = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-a1' } });
      expect(row.tokenHash).toBe(hashFleetToken(enrolled.deviceToken));
      expect(JSON.stringify(row)).not.toContain(enrolled.deviceToken);
      expect(row).toMatchObject({ hardwareClass: 'rpi4', runtime: 'tfjs-wasm' });
      // The device token works on device routes (the canary channel has no release: 204).
      expect((await poll(enrolled.deviceToken)).statusCode).toBe(204);
    });

    it('refuses a missing, unknown, expired or revoked enrolment token, and an API key, creating no device', async () => {
      const expired = await createTestEnrollmentToken(server, { line: 'enrol-line' }, { expiresInSeconds: 60 });
      await server.services.db.prisma.enrollmentToken.update({
        where: { id: expired.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      const revoked = await createTestEnrollmentToken(server, { line: 'enrol-line' });
      const revoke = await server.app.inject({
        method: 'DELETE',
        url: `/v1/enrollment-tokens/${revoked.id}`,
        headers: server.auth(),
      });
      expect(revoke.statusCode).toBe(204);
      const again = await server.app.inject({
        method: 'DELETE',
        url: `/v1/enrollment-tokens/${revoked.id}`,
        headers: server.auth(),
      });
      expect(again.statusCode).toBe(404);
      expect(again.json().code).toBe('MF_ERR_ENROLLMENT_TOKEN_NOT_FOUND');

      const before = await server.services.db.prisma.device.count();
      const attempts: [Record<string, string>, string][] = [
        [{}, 'MF_ERR_CREDENTIAL_MISSING'],
        [bearer(`mfe_00000000_${'A'.repeat(43)}`), 'MF_ERR_CREDENTIAL_INVALID'],
        [bearer(expired.token), 'MF_ERR_CREDENTIAL_INVALID'],
        [bearer(revoked.token), 'MF_ERR_CREDENTIAL_INVALID'],
        [server.auth(), 'MF_ERR_CREDENTIAL_INVALID'],
      ];
      for (const [headers, code] of attempts) {
        const response = await server.app.inject({
          method: 'POST',
          url: '/v1/device/enroll',
          headers,
          payload: { deviceId: 'refused-1' },
        });
        expect(response.statusCode, JSON.stringify(headers)).toBe(401);
        expect(response.json().code).toBe(code);
      }
      expect(await server.services.db.prisma.device.count()).toBe(before);
    });

    it('rotates the token when the same device enrols again: the old token stops working at once', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'enrol-line' });
      const first = await enrollTestDevice(server, token, 'sorter-rotate');
      expect((await poll(first.deviceToken)).statusCode).toBe(200); // cached in the device-token cache now
      const second = await enrollTestDevice(server, token, 'sorter-rotate');
      expect(second.deviceToken).not.toBe(first.deviceToken);
      const old = await poll(first.deviceToken);
      expect(old.statusCode).toBe(401);
      expect(old.json().code).toBe('MF_ERR_CREDENTIAL_INVALID');
      expect((await poll(second.deviceToken)).statusCode).toBe(200);
      expect(await server.services.db.prisma.device.count({ where: { deviceId: 'sorter-rotate' } })).toBe(1);
    });

    it('refuses a token of another line enrolling an existing device id: no takeover, the device keeps its token', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'enrol-line' });
      const device = await enrollTestDevice(server, token, 'sorter-owned');
      await publishTestRelease(server, 'enrol-other-line');
      const { token: otherLine } = await createTestEnrollmentToken(server, { line: 'enrol-other-line' });
      const before = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-owned' } });
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/device/enroll',
        headers: { authorization: `Bearer ${otherLine}` },
        payload: { deviceId: 'sorter-owned' },
      });
      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('MF_ERR_DEVICE_ID_TAKEN');
      const after = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-owned' } });
      expect(after).toEqual(before);
      expect((await poll(device.deviceToken)).statusCode).toBe(200);
    });
  });

  describe('poll', () => {
    let deviceToken: string;
    let trusted: ReturnType<typeof publicKeyFromBase64>[];
    beforeAll(async () => {
      await createLine(server, 'poll-line');
      const { token } = await createTestEnrollmentToken(server, { line: 'poll-line' });
      deviceToken = (await enrollTestDevice(server, token, 'sorter-poll')).deviceToken;
      const keys = await server.app.inject({ method: 'GET', url: '/v1/keys' });
      trusted = keys.json<{ keys: { publicKey: string }[] }>().keys.map((key) => publicKeyFromBase64(key.publicKey));
    });

    it('answers 204 while the channel has no release', async () => {
      const response = await poll(deviceToken);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(response.headers['content-length'] ?? '0').toBe('0');
    });

    it('answers 200 with an offer and a release manifest whose signatures verify with the published key; 304 by current and by ETag', async () => {
      const { release, bytes } = await publishTestRelease(server, 'poll-line', { viaApi: true });
      const response = await poll(deviceToken);
      expect(response.statusCode).toBe(200);
      const etag = response.headers.etag as string;
      expect(etag).toMatch(/^"[^"]+"$/);
      const answer = response.json<UpdateAnswer>();
      const offer = verifyEnvelope<UpdateOffer>(SIGNED_KINDS.updateOffer, answer.offer, trusted);
      const manifest = verifyEnvelope<ReleaseManifest>(SIGNED_KINDS.releaseManifest, answer.releaseManifest, trusted);
      expect(offer).toMatchObject({
        schema: 'modelfleet.update/v1',
        line: 'poll-line',
        channel: 'stable',
        release: release.number,
        target: {
          sha256: release.artifactSha256,
          size: bytes.length,
          encoding: 'float16',
          url: `/v1/blobs/${release.artifactSha256}`,
        },
        delta: null,
        pollAfterSeconds: 60,
      });
      expect(Date.parse(offer.expiresAt) - Date.parse(offer.issuedAt)).toBe(7 * 24 * 3600 * 1000);
      expect(manifest).toMatchObject({ release: release.number, artifact: { sha256: release.artifactSha256 } });
      // A signature made for a manifest does not verify as an offer (domain separation).
      expect(() => verifyEnvelope(SIGNED_KINDS.updateOffer, answer.releaseManifest, trusted)).toThrow();

      const signaturesBefore = server.services.devices.polls.signatures;
      const byCurrent = await poll(deviceToken, `?current=${release.artifactSha256}`);
      expect(byCurrent.statusCode).toBe(304);
      expect(byCurrent.body).toBe('');
      // No body announced either (a `Content-Length: 4` for a serialised null made HTTP clients wait for it).
      expect(byCurrent.headers['content-length'] ?? '0').toBe('0');
      expect(byCurrent.headers.etag).toBe(etag);
      const byEtag = await poll(deviceToken, '', { 'if-none-match': etag });
      expect(byEtag.statusCode).toBe(304);
      // Another artifact and another ETag get the offer again, from the cache: no new signature.
      const other = await poll(deviceToken, `?current=${'0'.repeat(64)}`, { 'if-none-match': '"something-else"' });
      expect(other.statusCode).toBe(200);
      expect(other.json()).toEqual(answer);
      expect(server.services.devices.polls.signatures).toBe(signaturesBefore);
    });

    it('changes the ETag when a newer release is published, so the old ETag gets the new offer', async () => {
      const first = await poll(deviceToken);
      const oldEtag = first.headers.etag as string;
      const { release } = await publishTestRelease(server, 'poll-line', { viaApi: true });
      const response = await poll(deviceToken, '', { 'if-none-match': oldEtag });
      expect(response.statusCode).toBe(200);
      expect(response.headers.etag).not.toBe(oldEtag);
      expect(response.json<UpdateAnswer>().offer.signed).toMatchObject({
        release: release.number,
        target: { sha256: release.artifactSha256 },
      });
      expect((await poll(deviceToken, '', { 'if-none-match': response.headers.etag as string })).statusCode).toBe(304);
    });

    it('refuses no token (401), an API key (403 MF_ERR_WRONG_CREDENTIAL_KIND) and a malformed query (400)', async () => {
      const none = await server.app.inject({ method: 'GET', url: '/v1/device/update' });
      expect(none.statusCode).toBe(401);
      expect(none.json().code).toBe('MF_ERR_CREDENTIAL_MISSING');
      const key = await poll(server.adminKey);
      expect(key.statusCode).toBe(403);
      expect(key.json().code).toBe('MF_ERR_WRONG_CREDENTIAL_KIND');
      const bad = await poll(deviceToken, '?current=not-a-sha');
      expect(bad.statusCode).toBe(400);
    });

    it('serves a cached device without a query and drops it on the next sweep after another process revokes it', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'poll-line' });
      const device = await enrollTestDevice(server, token, 'sorter-elsewhere');
      expect((await poll(device.deviceToken)).statusCode).toBe(200);
      // Another server process revokes it: a database write this process's cache does not see...
      await server.services.db.prisma.device.update({
        where: { deviceId: 'sorter-elsewhere' },
        data: { revokedAt: new Date() },
      });
      expect((await poll(device.deviceToken)).statusCode).toBe(200);
      // ...until the sweep (every DEVICE_AUTH_SWEEP_MS) asks which devices changed.
      await server.services.devices.auth.sweep();
      const after = await poll(device.deviceToken);
      expect(after.statusCode).toBe(401);
      expect(after.json().code).toBe('MF_ERR_CREDENTIAL_INVALID');
    });

    it('warms a device-token cache with every active device, which then answers without reading the database', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'poll-line' });
      const warmed = await enrollTestDevice(server, token, 'sorter-warm');
      const auth = createDeviceAuth(server.services.db, {
        ttlMs: 600_000,
        sweepIntervalMs: 3_600_000,
        logger: pino({ level: 'silent' }),
      });
      try {
        const active = await server.services.db.prisma.device.count({ where: { revokedAt: null } });
        expect(await auth.warm(2)).toBe(active); // pages of two: the paging is exercised
        expect(auth.size).toBe(active);
        // Revoked behind the cache's back: a cached answer proves no query was made.
        await server.services.db.prisma.device.update({
          where: { deviceId: 'sorter-warm' },
          data: { revokedAt: new Date() },
        });
        expect(await auth.authenticate(warmed.deviceToken)).toMatchObject({ deviceId: 'sorter-warm' });
        await auth.sweep();
        expect(await auth.authenticate(warmed.deviceToken)).toBeNull();
      } finally {
        await auth.close();
      }
    });

    it('refuses a revoked device with 401 at once, and an unknown device token with 401', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'poll-line' });
      const device = await enrollTestDevice(server, token, 'sorter-revoked');
      expect((await poll(device.deviceToken)).statusCode).toBe(200);
      const revoked = await server.app.inject({
        method: 'DELETE',
        url: '/v1/devices/sorter-revoked',
        headers: server.auth(),
      });
      expect(revoked.statusCode).toBe(204);
      const after = await poll(device.deviceToken);
      expect(after.statusCode).toBe(401);
      expect(after.json().code).toBe('MF_ERR_CREDENTIAL_INVALID');
      expect(
        (await server.app.inject({ method: 'DELETE', url: '/v1/devices/sorter-revoked', headers: server.auth() }))
          .statusCode,
      ).toBe(404);
      expect((await devices()).find((item) => item.deviceId === 'sorter-revoked')?.revokedAt).toEqual(
        expect.any(String),
      );
      expect((await poll(`mfd_00000000_${'A'.repeat(43)}`)).statusCode).toBe(401);
    });
  });

  describe('reports and the fleet view', () => {
    it('stores a retried report once, moves the device on `installed` and shows it in GET /v1/devices', async () => {
      const { release } = await publishTestRelease(server, 'report-line');
      const { token } = await createTestEnrollmentToken(server, { line: 'report-line', tags: ['hall-9'] });
      const device = await enrollTestDevice(server, token, 'sorter-report', { hardwareClass: 'rpi5' });
      const downloaded = {
        idempotencyKey: 'report-0001',
        state: 'downloaded',
        release: release.number,
        download: { kind: 'full', bytes: 123 },
      };
      expect((await report(device.deviceToken, downloaded)).json()).toEqual({ accepted: true });
      const installed = {
        idempotencyKey: 'report-0002',
        state: 'installed',
        release: release.number,
        artifactSha256: release.artifactSha256,
        smokeLatencyMs: 12.5,
        occurredAt: new Date().toISOString(),
      };
      const firstTry = await report(device.deviceToken, installed);
      expect(firstTry.statusCode).toBe(202);
      expect(firstTry.json()).toEqual({ accepted: true });
      const retry = await report(device.deviceToken, installed);
      expect(retry.statusCode).toBe(202);
      expect(retry.json()).toEqual({ accepted: false });

      const row = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-report' } });
      expect(await server.services.db.prisma.deviceReport.count({ where: { deviceId: row.id } })).toBe(2);
      expect(
        await server.services.db.prisma.deviceReport.count({
          where: { deviceId: row.id, idempotencyKey: 'report-0002' },
        }),
      ).toBe(1);
      expect(row).toMatchObject({
        state: 'installed',
        currentReleaseId: release.id,
        currentArtifactSha256: release.artifactSha256,
        lastSmokeLatencyMs: 12.5,
      });

      const listed = (await devices('?line=report-line')).find((item) => item.deviceId === 'sorter-report');
      expect(listed).toMatchObject({
        line: 'report-line',
        channel: 'stable',
        tags: ['hall-9'],
        hardwareClass: 'rpi5',
        release: release.number,
        artifactSha256: release.artifactSha256,
        state: 'installed',
        smokeLatencyMs: 12.5,
        lastError: null,
        revokedAt: null,
      });
      expect(listed?.lastSeenAt).toEqual(expect.any(String));
    });

    it('maps rolled-back to the database enum and back, keeps the current release and records the error', async () => {
      const { release: second } = await publishTestRelease(server, 'report-line');
      const device = (await devices('?line=report-line')).find((item) => item.deviceId === 'sorter-report')!;
      const { token } = await createTestEnrollmentToken(server, { line: 'report-line' });
      const other = await enrollTestDevice(server, token, 'sorter-report-2');
      const response = await report(other.deviceToken, {
        idempotencyKey: 'rollback-0001',
        state: 'rolled-back',
        release: second.number,
        error: 'smoke test: output not finite',
      });
      expect(response.statusCode).toBe(202);
      const row = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-report-2' } });
      expect(row).toMatchObject({
        state: 'rolled_back',
        currentReleaseId: null,
        lastError: 'smoke test: output not finite',
      });
      const listed = (await devices()).find((item) => item.deviceId === 'sorter-report-2');
      expect(listed).toMatchObject({ state: 'rolled-back', release: null, lastError: 'smoke test: output not finite' });
      // The first device is untouched.
      expect((await devices()).find((item) => item.deviceId === 'sorter-report')).toMatchObject({
        release: device.release,
      });
    });

    it('filters the fleet by line, channel and tag', async () => {
      const ids = (items: DeviceInfo[]) => items.map((item) => item.deviceId).sort();
      expect(ids(await devices('?line=report-line'))).toEqual(['sorter-report', 'sorter-report-2']);
      expect(ids(await devices('?tag=hall-9'))).toEqual(['sorter-report']);
      expect(ids(await devices('?line=enrol-line&channel=canary'))).toEqual(['sorter-a1']);
      expect(await devices('?line=no-such-line')).toEqual([]);
      const readKey = await createKey(server, ['read']);
      expect(
        (await server.app.inject({ method: 'GET', url: '/v1/devices', headers: server.auth(readKey) })).statusCode,
      ).toBe(200);
      expect((await server.app.inject({ method: 'GET', url: '/v1/devices' })).statusCode).toBe(401);
    });

    it('records last-seen times of polling devices, flushed in a batch', async () => {
      const { token } = await createTestEnrollmentToken(server, { line: 'report-line' });
      const device = await enrollTestDevice(server, token, 'sorter-seen');
      const row = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'sorter-seen' } });
      expect(row.lastSeenAt).toBeNull();
      expect((await poll(device.deviceToken)).statusCode).toBe(200);
      await server.services.devices.lastSeen.flush();
      const after = await server.services.db.prisma.device.findUniqueOrThrow({ where: { id: row.id } });
      expect(after.lastSeenAt?.getTime()).toBeGreaterThan(Date.now() - 60_000);
    });

    it('writes nothing per sighting, everything on flush, and flushes on close', async () => {
      const { prisma } = server.services.db;
      const { token } = await createTestEnrollmentToken(server, { line: 'report-line' });
      const ids = [];
      for (const name of ['sorter-batch-1', 'sorter-batch-2']) {
        await enrollTestDevice(server, token, name);
        ids.push((await prisma.device.findUniqueOrThrow({ where: { deviceId: name } })).id);
      }
      // Its own batcher with a timer that never fires during the test.
      const lastSeen = createLastSeen(server.services.db, {
        flushIntervalMs: 3_600_000,
        logger: pino({ level: 'silent' }),
      });
      for (let i = 0; i < 100; i++) lastSeen.seen(ids[0]!);
      expect(lastSeen.pending).toBe(1);
      expect((await prisma.device.findUniqueOrThrow({ where: { id: ids[0]! } })).lastSeenAt).toBeNull();
      await lastSeen.flush();
      expect(lastSeen.pending).toBe(0);
      expect((await prisma.device.findUniqueOrThrow({ where: { id: ids[0]! } })).lastSeenAt).not.toBeNull();
      // Written a moment ago: seen again within the resolution (a minute) it is not queued again.
      lastSeen.seen(ids[0]!);
      expect(lastSeen.pending).toBe(0);
      lastSeen.seen(ids[1]!);
      await lastSeen.close();
      expect((await prisma.device.findUniqueOrThrow({ where: { id: ids[1]! } })).lastSeenAt).not.toBeNull();
    });
  });
});
