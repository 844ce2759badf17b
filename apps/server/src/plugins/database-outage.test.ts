import {
  createTestDatabase,
  holdConnection,
  postgresTestAvailability,
  type TestDatabase,
} from '@modelfleet/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../devices/test-fleet.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * A server on real PostgreSQL with a pool of one connection: while something else holds that connection,
 * an operator's request and a device's report are answered 503 MF_ERR_DB_BUSY with Retry-After (not 500),
 * nothing is half-written, and the same report sent again once the connection is free is stored once.
 */
const postgres = await postgresTestAvailability();
const skip = !postgres.available && !postgres.required;

describe.skipIf(skip)('a database with every connection taken', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let server: TestServer;
  let deviceToken: string;
  let releaseNumber: number;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    // The test database's own client is not needed: the server opens the schema with its own pool.
    await testDb.db.close();
    server = await startTestServer({
      DATABASE_URL: testDb.databaseUrl!,
      DATABASE_POOL_MAX: '1',
      DATABASE_POOL_WAIT_MS: '400',
    });
    const { release } = await publishTestRelease(server, 'busy-line');
    releaseNumber = release.number;
    const enrolment = await createTestEnrollmentToken(server, { line: 'busy-line' });
    deviceToken = (await enrollTestDevice(server, enrolment.token, 'busy-1')).deviceToken;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await testDb?.cleanup();
  });

  const report = () =>
    server.app.inject({
      method: 'POST',
      url: '/v1/device/reports',
      headers: { authorization: `Bearer ${deviceToken}` },
      payload: { idempotencyKey: 'busy-report-1', state: 'downloaded', release: releaseNumber },
    });

  it('answers 503 MF_ERR_DB_BUSY with Retry-After, and the retried report is stored once', async () => {
    const release = await holdConnection(server.services.db);
    let list, refused;
    try {
      list = await server.app.inject({ method: 'GET', url: '/v1/models', headers: server.auth() });
      refused = await report();
    } finally {
      await release();
    }
    for (const response of [list, refused]) {
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({
        code: 'MF_ERR_DB_BUSY',
        details: { retryAfterSeconds: 1 },
      });
      // The driver's words (hosts, ports) stay in the log.
      expect(response.body).not.toContain('127.0.0.1');
    }
    const prisma = server.services.db.prisma;
    expect(await prisma.deviceReport.count({ where: { idempotencyKey: 'busy-report-1' } })).toBe(0);

    const accepted = await report();
    expect(accepted.statusCode, accepted.body).toBe(202);
    expect(accepted.json()).toEqual({ accepted: true });
    expect(await prisma.deviceReport.count({ where: { idempotencyKey: 'busy-report-1' } })).toBe(1);
    expect((await prisma.device.findUniqueOrThrow({ where: { deviceId: 'busy-1' } })).state).toBe('downloaded');
  });
});
