import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/test-server.js';

describe('health', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('/healthz answers 200 without a key', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with every dependency checked and its driver named', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.status).toBe('ready');
    expect(body.checks.database).toMatchObject({ ok: true, driver: 'pglite' });
    expect(body.checks.queue).toMatchObject({ ok: true, driver: 'in-process' });
    expect(body.checks.blobs).toMatchObject({ ok: true, driver: 'fs' });
  });

  it('/readyz names a failed dependency without repeating what it said (the answer is public)', async () => {
    const blobs = server.services.probes.find((probe) => probe.name === 'blobs')!;
    const ping = blobs.ping;
    (blobs as { ping: () => Promise<void> }).ping = () =>
      Promise.reject(new Error('EACCES: permission denied, open /srv/secret-volume/blobs/.probe'));
    try {
      const response = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json().checks.blobs).toMatchObject({
        ok: false,
        driver: 'fs',
        error: 'unreachable (the server log has the cause)',
      });
      expect(response.body).not.toContain('secret-volume');
    } finally {
      (blobs as { ping: () => Promise<void> }).ping = ping;
    }
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('/readyz answers 503 not-ready naming the database once the database is closed', async () => {
    await server.services.db.close();
    const response = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe('not-ready');
    expect(body.checks.database.ok).toBe(false);
    expect(body.checks.database.error).toEqual(expect.any(String));
    expect(body.checks.queue.ok).toBe(true);
    expect(body.checks.blobs.ok).toBe(true);
  });
});
