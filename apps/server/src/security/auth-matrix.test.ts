import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateAnswer } from '@modelfleet/contracts';
import type { Release } from '@modelfleet/db';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { createKey } from '../testing/api.js';
import { blobFiles } from '../testing/blob-files.js';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../devices/test-fleet.js';
import { generateFleetToken } from '../devices/tokens.js';
import { generateApiKey, scopesGrant, type ApiKeyScope } from '../auth/api-keys.js';
import type { RouteAccess } from '../auth/access.js';
import type { RouteAccessEntry } from '../auth/plugin.js';

/**
 * The authorisation matrix: every route the server registers (read from the route table at test time, so
 * a route added tomorrow is in it) x every credential that must not open it. Each refusal must carry the
 * right status and code, and must leave the database (every table, every row) and the blob store as they
 * were. Public routes are a reviewed list: a new one fails this test until someone decides it is public.
 */

/** Routes anyone may call, reviewed one by one. */
const REVIEWED_PUBLIC_ROUTES = new Set([
  'GET /healthz',
  'HEAD /healthz',
  'GET /readyz',
  'HEAD /readyz',
  'GET /v1/keys',
  'HEAD /v1/keys',
  // Public to the auth plugin; the handler checks the enrolment token (covered below).
  'POST /v1/device/enroll',
  // The dashboard's own files (HTML, scripts, styles): no data, which needs an API key from the page.
  'GET /dashboard',
  'HEAD /dashboard',
  'GET /dashboard/',
  'HEAD /dashboard/',
  'GET /dashboard/:file',
  'HEAD /dashboard/:file',
]);

interface Expected {
  status: number;
  code: string;
}

interface Credential {
  name: string;
  headers: Record<string, string>;
  /** What a route with this access must answer, or undefined when this credential may legitimately pass. */
  expect(access: Exclude<RouteAccess, { kind: 'public' }>): Expected | undefined;
}

const MISSING = { status: 401, code: 'MF_ERR_CREDENTIAL_MISSING' };
const INVALID = { status: 401, code: 'MF_ERR_CREDENTIAL_INVALID' };
const WRONG_KIND = { status: 403, code: 'MF_ERR_WRONG_CREDENTIAL_KIND' };
const SCOPE = { status: 403, code: 'MF_ERR_SCOPE_MISSING' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authorisation matrix (every registered route x every wrong credential)', () => {
  let server: TestServer;
  let routes: readonly RouteAccessEntry[];
  let releaseA: Release;
  let releaseB: Release;
  let paramValues: (url: string, name: string) => string;
  let credentials: Credential[];
  let deviceB: string;
  let canaryDevice: string;
  let enrolment: { valid: string; expired: string; revoked: string };
  let apiKeys: Record<'read' | 'upload' | 'publish' | 'admin' | 'revoked', string>;

  /** Every row of every table, hashed per table: a refused request must change none of them. */
  async function databaseFingerprint(): Promise<Record<string, string>> {
    const { prisma } = server.services.db;
    const tables = await prisma.$queryRawUnsafe<{ name: string }[]>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    );
    const result: Record<string, string> = {};
    for (const { name } of tables) {
      const rows = await prisma.$queryRawUnsafe<{ n: number; h: string }[]>(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM "${name}" t`,
      );
      result[name] = `${rows[0]!.n}:${rows[0]!.h}`;
    }
    return result;
  }

  async function state() {
    return { database: await databaseFingerprint(), blobs: await blobFiles(server.dataDir) };
  }

  const concreteUrl = (url: string) =>
    url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => paramValues(url, name)).replace(/\*$/, 'index.html');

  const send = (route: RouteAccessEntry, headers: Record<string, string>) =>
    server.app.inject({
      method: route.method as 'GET',
      url: concreteUrl(route.url),
      headers,
      ...(['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(route.method) ? {} : { payload: {} }),
    });

  beforeAll(async () => {
    server = await startTestServer({
      // The matrix sends hundreds of refused credentials from one address; the limiter has its own tests.
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '0',
      RATE_LIMIT_DEVICE_PER_MINUTE: '0',
      DEVICE_AUTH_SWEEP_MS: '3600000',
      DEVICE_LAST_SEEN_FLUSH_MS: '3600000',
    });
    routes = server.app.routeAccess;
    // Line A has two releases (numbers 1, 2), line B one: release numbers of A do not exist on B's channel.
    await publishTestRelease(server, 'matrix-a');
    releaseA = (await publishTestRelease(server, 'matrix-a')).release;
    releaseB = (await publishTestRelease(server, 'matrix-b')).release;
    await publishTestRelease(server, 'matrix-a', { channel: 'canary' });

    apiKeys = {
      read: await createKey(server, ['read']),
      upload: await createKey(server, ['upload']),
      publish: await createKey(server, ['publish']),
      admin: await createKey(server, ['admin']),
      revoked: await createKey(server, ['admin'], 'matrix revoked'),
    };
    const { prisma } = server.services.db;
    const revokedKey = await prisma.apiKey.findFirstOrThrow({ where: { name: 'matrix revoked' } });
    await server.app.inject({ method: 'DELETE', url: `/v1/api-keys/${revokedKey.id}`, headers: server.auth() });
    const readKeyRow = await prisma.apiKey.findFirstOrThrow({ where: { name: 'test read' } });

    const tokenA = await createTestEnrollmentToken(server, { line: 'matrix-a' });
    const tokenB = await createTestEnrollmentToken(server, { line: 'matrix-b' });
    const tokenCanary = await createTestEnrollmentToken(server, { line: 'matrix-a', channel: 'canary' });
    const expired = await createTestEnrollmentToken(server, { line: 'matrix-a' });
    await prisma.enrollmentToken.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1) } });
    const revokedToken = await createTestEnrollmentToken(server, { line: 'matrix-a' });
    await server.app.inject({
      method: 'DELETE',
      url: `/v1/enrollment-tokens/${revokedToken.id}`,
      headers: server.auth(),
    });
    enrolment = { valid: tokenA.token, expired: expired.token, revoked: revokedToken.token };

    const deviceA = (await enrollTestDevice(server, tokenA.token, 'matrix-dev-a')).deviceToken;
    deviceB = (await enrollTestDevice(server, tokenB.token, 'matrix-dev-b')).deviceToken;
    canaryDevice = (await enrollTestDevice(server, tokenCanary.token, 'matrix-dev-canary')).deviceToken;
    const revokedDevice = (await enrollTestDevice(server, tokenA.token, 'matrix-dev-revoked')).deviceToken;
    await server.app.inject({ method: 'DELETE', url: '/v1/devices/matrix-dev-revoked', headers: server.auth() });

    // Real resources of line A in every path parameter: were a guard missing, the request would act on them.
    const version = await prisma.candidate.findFirstOrThrow({ where: { id: releaseA.candidateId } });
    paramValues = (url, name) => {
      if (name === 'line') return 'matrix-a';
      if (name === 'deviceId') return 'matrix-dev-a';
      if (name === 'version') return version.versionId;
      if (/sha/i.test(name)) return releaseA.artifactSha256;
      if (/number|release/i.test(name)) return String(releaseA.number);
      if (name === 'id' && url.includes('api-keys')) return readKeyRow.id;
      if (name === 'id' && url.includes('enrollment-tokens')) return tokenA.id;
      return releaseA.id;
    };

    const personOnly = (access: Exclude<RouteAccess, { kind: 'public' }>, refused: Expected) =>
      access.kind === 'person' ? refused : undefined;
    const keyWithScopes = (name: string, key: string, scopes: ApiKeyScope[]): Credential => ({
      name,
      headers: bearer(key),
      expect: (access) =>
        access.kind === 'device' ? WRONG_KIND : scopesGrant(scopes, access.scope) ? undefined : SCOPE,
    });
    credentials = [
      { name: 'no credential', headers: {}, expect: () => MISSING },
      {
        name: 'Basic auth instead of a bearer',
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
        expect: () => MISSING,
      },
      { name: 'malformed bearer', headers: bearer('not-a-token'), expect: () => INVALID },
      {
        name: 'truncated device token',
        headers: bearer(deviceA.slice(0, -1)),
        expect: (a) => personOnly(a, WRONG_KIND) ?? INVALID,
      },
      {
        name: 'API key with a byte changed',
        headers: bearer(`${apiKeys.admin.slice(0, -1)}${apiKeys.admin.endsWith('A') ? 'B' : 'A'}`),
        expect: (a) => (a.kind === 'device' ? WRONG_KIND : INVALID),
      },
      {
        name: 'unknown API key',
        headers: bearer(generateApiKey().key),
        expect: (a) => (a.kind === 'device' ? WRONG_KIND : INVALID),
      },
      {
        name: 'revoked admin key',
        headers: bearer(apiKeys.revoked),
        expect: (a) => (a.kind === 'device' ? WRONG_KIND : INVALID),
      },
      keyWithScopes('read key', apiKeys.read, ['read']),
      keyWithScopes('upload key', apiKeys.upload, ['upload']),
      keyWithScopes('publish key', apiKeys.publish, ['publish']),
      keyWithScopes('admin key', apiKeys.admin, ['admin']),
      { name: 'device token', headers: bearer(deviceA), expect: (a) => personOnly(a, WRONG_KIND) },
      {
        name: 'revoked device token',
        headers: bearer(revokedDevice),
        expect: (a) => personOnly(a, WRONG_KIND) ?? INVALID,
      },
      {
        name: 'unknown device token',
        headers: bearer(generateFleetToken('mfd').token),
        expect: (a) => personOnly(a, WRONG_KIND) ?? INVALID,
      },
      { name: 'valid enrolment token', headers: bearer(enrolment.valid), expect: () => INVALID },
      { name: 'expired enrolment token', headers: bearer(enrolment.expired), expect: () => INVALID },
    ];
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('reads the route table: every route declares its access, and the public ones are the reviewed ones', () => {
    const undeclared = routes.filter((route) => route.access === undefined && !route.url.startsWith('/docs'));
    expect(undeclared).toEqual([]);
    const publicRoutes = routes
      .filter((route) => route.access?.kind === 'public')
      .map((route) => `${route.method} ${route.url}`);
    const unreviewed = publicRoutes.filter((route) => !REVIEWED_PUBLIC_ROUTES.has(route));
    expect(unreviewed, 'new public routes: review them, then add them to REVIEWED_PUBLIC_ROUTES').toEqual([]);
    // The table is the real one, not an empty list that would make every check below pass.
    const guarded = routes.filter((route) => route.access?.kind === 'person' || route.access?.kind === 'device');
    expect(guarded.length).toBeGreaterThanOrEqual(20);
    for (const known of ['POST /v1/models/:line/releases', 'GET /v1/device/update', 'GET /v1/blobs/:sha256']) {
      expect(guarded.map((route) => `${route.method} ${route.url}`)).toContain(known);
    }
  });

  it('refuses every wrong credential on every person and device route with the right code, changing nothing', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const access = route.access;
      if (access === undefined || access.kind === 'public') continue;
      const before = await state();
      for (const credential of credentials) {
        const expected = credential.expect(access);
        if (expected === undefined) continue;
        const response = await send(route, credential.headers);
        checked += 1;
        const code = route.method === 'HEAD' ? expected.code : (response.json() as { code?: string }).code;
        if (response.statusCode !== expected.status || code !== expected.code) {
          failures.push(
            `${route.method} ${route.url} with ${credential.name}: ${response.statusCode} ${code} (expected ${expected.status} ${expected.code})`,
          );
        }
      }
      const after = await state();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        failures.push(`${route.method} ${route.url}: refused requests changed the database or the blob store`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  }, 180_000);

  it('enrols no device with a missing, malformed, unknown, expired or revoked enrolment token, an API key or a device token', async () => {
    const route = routes.find((r) => r.method === 'POST' && r.url === '/v1/device/enroll');
    expect(route).toBeDefined();
    const before = await state();
    const attempts: [string, Record<string, string>, Expected][] = [
      ['none', {}, MISSING],
      ['malformed', bearer('mfe_nope'), INVALID],
      ['unknown', bearer(generateFleetToken('mfe').token), INVALID],
      ['expired', bearer(enrolment.expired), INVALID],
      ['revoked', bearer(enrolment.revoked), INVALID],
      ['admin key', bearer(apiKeys.admin), INVALID],
      ['device token', bearer(deviceB), INVALID],
    ];
    for (const [name, headers, expected] of attempts) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/device/enroll',
        headers,
        payload: { deviceId: 'matrix-intruder' },
      });
      expect({ name, status: response.statusCode, code: response.json().code }).toEqual({
        name,
        status: expected.status,
        code: expected.code,
      });
    }
    expect(await state()).toEqual(before);
  }, 60_000);

  it('keeps a device of line B out of line A: no blob of A, no offer of A, no report that links a release of A', async () => {
    const before = await state();
    const failures: string[] = [];
    for (const route of routes) {
      if (route.access?.kind !== 'device' || !route.url.includes(':')) continue;
      const response = await send(route, bearer(deviceB));
      if (response.statusCode < 400) failures.push(`${route.method} ${concreteUrl(route.url)}: ${response.statusCode}`);
      if (route.method !== 'HEAD' && response.statusCode !== 401) {
        expect(response.json().code, `${route.method} ${route.url}`).toMatch(/^MF_ERR_/);
      }
    }
    expect(failures).toEqual([]);
    const blob = await server.app.inject({
      method: 'GET',
      url: `/v1/blobs/${releaseA.artifactSha256}`,
      headers: bearer(deviceB),
    });
    expect(blob.statusCode).toBe(404);
    expect(blob.json().code).toBe('MF_ERR_BLOB_NOT_SERVED');
    expect(await state()).toEqual(before);

    // The poll of B answers B's release, whatever B claims to run.
    for (const current of ['', `?current=${releaseA.artifactSha256}`]) {
      const poll = await server.app.inject({
        method: 'GET',
        url: `/v1/device/update${current}`,
        headers: bearer(deviceB),
      });
      expect(poll.statusCode).toBe(200);
      const answer = poll.json<UpdateAnswer>();
      expect(answer.offer.signed).toMatchObject({ line: 'matrix-b', target: { sha256: releaseB.artifactSha256 } });
      expect(poll.body).not.toContain(releaseA.artifactSha256);
    }

    // A report naming release 2 (which exists on A's channel only) links no release to B.
    const report = await server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: bearer(deviceB),
      payload: { idempotencyKey: 'matrix-cross-line', state: 'installed', release: releaseA.number },
    });
    expect(report.statusCode).toBe(202);
    const device = await server.services.db.prisma.device.findUniqueOrThrow({ where: { deviceId: 'matrix-dev-b' } });
    expect(device.currentReleaseId).not.toBe(releaseA.id);
    expect(device.currentReleaseId).toBeNull();
  }, 60_000);

  it('offers a device of another channel of the same line only its own channel’s release', async () => {
    const poll = await server.app.inject({ method: 'GET', url: '/v1/device/update', headers: bearer(canaryDevice) });
    expect(poll.statusCode).toBe(200);
    const offer = poll.json<UpdateAnswer>().offer.signed;
    expect(offer).toMatchObject({ line: 'matrix-a', channel: 'canary' });
    expect(offer.target.sha256).not.toBe(releaseA.artifactSha256);
  });
});
