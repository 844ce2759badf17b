import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { createLine, DEMO_PREPROCESSING, postVersion, rowCounts } from '../testing/api.js';
import { blobFiles } from '../testing/blob-files.js';
import { createTestEnrollmentToken, enrollTestDevice } from '../devices/test-fleet.js';
import { generateFleetToken } from '../devices/tokens.js';
import { generateApiKey } from '../auth/api-keys.js';
import { nestedDeeperThan } from '../plugins/limits.js';
import { createRateLimiter } from '../auth/rate-limit.js';
import { loadConfig } from '../config.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** `[[[…0…]]]` nested `depth` deep. */
const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}0${']'.repeat(depth)}`);

describe('security headers and request limits', () => {
  let server: TestServer;
  let deviceToken: string;
  beforeAll(async () => {
    server = await startTestServer({ MODEL_UPLOAD_MAX_FILES: '2', DEVICE_BODY_LIMIT_BYTES: '2048' });
    await createLine(server, 'limits-line');
    const { token } = await createTestEnrollmentToken(server, { line: 'limits-line' });
    deviceToken = (await enrollTestDevice(server, token, 'limits-device')).deviceToken;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('sends nosniff, no framing, no referrer and a CSP on every answer — success, 401, 404, HTML — and no banner', async () => {
    const answers = [
      await server.app.inject({ method: 'GET', url: '/healthz' }),
      await server.app.inject({ method: 'GET', url: '/v1/models' }),
      await server.app.inject({ method: 'GET', url: '/no/such/route' }),
      await server.app.inject({ method: 'GET', url: '/v1/device/update', headers: bearer('mfd_garbage') }),
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 401, 404, 401]);
    for (const answer of answers) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(answer.headers.server).toBeUndefined();
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('gives the HTML of the API docs a policy that lets only this server’s scripts run', async () => {
    let page = await server.app.inject({ method: 'GET', url: '/docs' });
    for (let hops = 0; page.statusCode === 302 && hops < 3; hops++) {
      page = await server.app.inject({
        method: 'GET',
        url: new URL(String(page.headers.location), 'http://x/docs/').pathname,
      });
    }
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('reads the limits from the environment, with defaults', () => {
    const defaults = loadConfig({}).limits.requests;
    expect(defaults).toEqual({
      deviceBodyBytes: 16 * 1024,
      jsonMaxDepth: 32,
      requestTimeoutMs: 600_000,
      headersTimeoutMs: 30_000,
      connectionIdleTimeoutMs: 120_000,
      devicePerMinute: 600,
      authFailuresPerMinute: 300,
      trustedProxyHops: 0,
    });
    expect(server.config.limits.requests.deviceBodyBytes).toBe(2048);
    expect(() => loadConfig({ JSON_MAX_DEPTH: '2' })).toThrow(/JSON_MAX_DEPTH/);
    expect(loadConfig({ RATE_LIMIT_DEVICE_PER_MINUTE: '0' }).limits.requests.devicePerMinute).toBe(0);
  });

  it('measures nesting without recursion, so a hostile depth cannot overflow the check itself', () => {
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: {} }] }, 3)).toBe(true);
    expect(nestedDeeperThan('scalar', 0)).toBe(false);
    expect(nestedDeeperThan(nested(200_000), 32)).toBe(true);
  });

  it('refuses a JSON body nested deeper than JSON_MAX_DEPTH (32) with 400 MF_ERR_JSON_TOO_DEEP, storing nothing', async () => {
    const before = await rowCounts(server);
    for (const depth of [33, 100_000]) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/models',
        headers: { ...server.auth(), 'content-type': 'application/json' },
        // Written by hand: JSON.stringify itself recurses and overflows at this depth.
        payload: `{"name":"deep-${depth}","preprocessing":${JSON.stringify(DEMO_PREPROCESSING)},"extra":${'['.repeat(depth)}0${']'.repeat(depth)}}`,
      });
      expect(response.statusCode, String(depth)).toBe(400);
      expect(response.json().code).toBe('MF_ERR_JSON_TOO_DEEP');
    }
    expect(await rowCounts(server)).toEqual(before);
    // A body of ordinary depth passes the check (the unknown member is dropped by the schema).
    const ordinary = await server.app.inject({
      method: 'POST',
      url: '/v1/models',
      headers: server.auth(),
      payload: { name: 'shallow', preprocessing: DEMO_PREPROCESSING, extra: nested(8) },
    });
    expect(ordinary.statusCode).toBe(201);
  });

  it('bounds device bodies by DEVICE_BODY_LIMIT_BYTES (413, no report stored), while people’s routes keep the general limit', async () => {
    const reportsBefore = await server.services.db.prisma.deviceReport.count();
    const big = await server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: bearer(deviceToken),
      payload: { idempotencyKey: 'limits-big', state: 'failed', error: 'x'.repeat(4096) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'MF_ERR_BODY_TOO_LARGE', message: expect.stringContaining('2048 bytes') });
    expect(await server.services.db.prisma.deviceReport.count()).toBe(reportsBefore);
    const small = await server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: bearer(deviceToken),
      payload: { idempotencyKey: 'limits-small', state: 'failed', error: 'x'.repeat(100) },
    });
    expect(small.statusCode).toBe(202);
    // The same 4 KiB on a person's route is not refused for its size.
    const person = await server.app.inject({
      method: 'POST',
      url: '/v1/models',
      headers: server.auth(),
      payload: { name: 'sized', preprocessing: DEMO_PREPROCESSING, description: 'x'.repeat(4096) },
    });
    expect(person.statusCode).not.toBe(413);
  });

  it('refuses a model upload with more files than MODEL_UPLOAD_MAX_FILES (413) and leaves no blob behind', async () => {
    const blobsBefore = await blobFiles(server.dataDir);
    const before = await rowCounts(server);
    const bytes = (text: string) => new TextEncoder().encode(text);
    const response = await postVersion(server, 'limits-line', [
      ['model.json', bytes('{}')],
      ['a.bin', bytes('aaaa')],
      ['b.bin', bytes('bbbb')],
    ]);
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('MF_ERR_UPLOAD_TOO_LARGE');
    expect(await blobFiles(server.dataDir)).toEqual(blobsBefore);
    expect(await rowCounts(server)).toEqual(before);
  });
});

describe('rate limits and timeouts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      RATE_LIMIT_DEVICE_PER_MINUTE: '5',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '4',
      CONNECTION_IDLE_TIMEOUT_MS: '300',
      TRUSTED_PROXY_HOPS: '1',
    });
    await createLine(server, 'rate-line');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('counts per key in fixed windows, bounded in keys, and 0 disables it', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 2, windowMs: 1000, maxKeys: 2, now: () => now });
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')]).toEqual([true, true, false]);
    expect(limiter.blocked('a')).toBe(true);
    expect(limiter.hit('b')).toBe(true);
    expect(limiter.hit('c')).toBe(true); // beyond maxKeys: not tracked
    expect(limiter.size).toBe(2);
    now = 999;
    expect(limiter.retryAfterMs()).toBe(1);
    now = 1000;
    expect(limiter.blocked('a')).toBe(false);
    expect(limiter.hit('a')).toBe(true);
    const off = createRateLimiter({ limit: 0, windowMs: 1000 });
    expect(Array.from({ length: 100 }, () => off.hit('a')).every(Boolean)).toBe(true);
  });

  it('answers 429 with Retry-After once a device token used its requests of the minute; other devices are unaffected', async () => {
    const { token } = await createTestEnrollmentToken(server, { line: 'rate-line' });
    const busy = (await enrollTestDevice(server, token, 'rate-busy')).deviceToken;
    const calm = (await enrollTestDevice(server, token, 'rate-calm')).deviceToken;
    const poll = (deviceToken: string) =>
      server.app.inject({ method: 'GET', url: '/v1/device/update', headers: bearer(deviceToken) });
    for (let i = 0; i < 5; i++) expect((await poll(busy)).statusCode).toBe(204);
    const limited = await poll(busy);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('MF_ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await poll(calm)).statusCode).toBe(204);
  });

  it('throttles guessed credentials per address before they reach the database; other addresses go on', async () => {
    const { auth } = server.services.devices;
    const original = auth.authenticate.bind(auth);
    let lookups = 0;
    auth.authenticate = (token: string) => {
      lookups += 1;
      return original(token);
    };
    try {
      const guess = (remoteAddress: string, authorization: string, url = '/v1/device/update') =>
        server.app.inject({ method: 'GET', url, headers: { authorization }, remoteAddress });
      const attacker = '203.0.113.7';
      for (let i = 0; i < 4; i++) {
        const response = await guess(attacker, `Bearer ${generateFleetToken('mfd').token}`);
        expect(response.statusCode).toBe(401);
      }
      expect(lookups).toBe(4);
      const blocked = await guess(attacker, `Bearer ${generateFleetToken('mfd').token}`);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().code).toBe('MF_ERR_RATE_LIMITED');
      expect(blocked.headers['retry-after']).toBeDefined();
      expect(lookups).toBe(4); // refused before the token was looked up
      // API keys and enrolment tokens from that address are throttled too.
      expect((await guess(attacker, `Bearer ${generateApiKey().key}`, '/v1/models')).statusCode).toBe(429);
      const enrol = await server.app.inject({
        method: 'POST',
        url: '/v1/device/enroll',
        headers: bearer(generateFleetToken('mfe').token),
        payload: { deviceId: 'guessed' },
        remoteAddress: attacker,
      });
      expect(enrol.statusCode).toBe(429);
      // Anyone else is served as before, and public routes without a credential stay open to the attacker.
      expect((await guess('198.51.100.9', `Bearer ${generateFleetToken('mfd').token}`)).statusCode).toBe(401);
      expect((await server.app.inject({ method: 'GET', url: '/healthz', remoteAddress: attacker })).statusCode).toBe(
        200,
      );
    } finally {
      auth.authenticate = original;
    }
  });

  it('behind a trusted proxy, limits the client address the proxy saw, not the proxy’s (nor what the client claims)', async () => {
    const proxy = '10.0.0.2';
    const viaProxy = (client: string, claimed?: string) =>
      server.app.inject({
        method: 'GET',
        url: '/v1/device/update',
        headers: {
          ...bearer(generateFleetToken('mfd').token),
          'x-forwarded-for': claimed === undefined ? client : `${claimed}, ${client}`,
        },
        remoteAddress: proxy,
      });
    // Four refusals for one client, each time claiming another address in front: still the same client.
    for (let i = 0; i < 4; i++) expect((await viaProxy('192.0.2.10', `198.18.0.${i}`)).statusCode).toBe(401);
    expect((await viaProxy('192.0.2.10', '198.18.0.99')).statusCode).toBe(429);
    // Another client behind the same proxy is not affected.
    expect((await viaProxy('192.0.2.11')).statusCode).toBe(401);
  });

  it('closes a connection that stops sending mid-request (slow loris) after CONNECTION_IDLE_TIMEOUT_MS', async () => {
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    const closed = await new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), 10_000);
      socket.once('close', () => {
        clearTimeout(deadline);
        resolve(true);
      });
      socket.resume();
    });
    socket.destroy();
    expect(closed).toBe(true);
  });
});
