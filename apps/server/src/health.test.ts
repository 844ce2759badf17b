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
