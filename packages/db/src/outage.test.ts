import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from './database.js';
import { DatabaseClosed } from './errors.js';
import { BUSY_RETRY_AFTER_SECONDS, databaseOutageOf, UNAVAILABLE_RETRY_AFTER_SECONDS } from './outage.js';
import { createTestDatabase, holdConnection, postgresTestAvailability, testDatabaseUrl } from './testing/index.js';

/*
 * The errors come from a real PostgreSQL: a pool of one connection held by another session, a port nobody
 * listens on, a backend terminated by the administrator. What matters is that the classification holds for
 * what Prisma 7 and node-postgres really throw, not for errors made up to look like them.
 */
const postgres = await postgresTestAvailability();
const skip = !postgres.available && !postgres.required;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A migrated schema of its own, opened a second time with a pool of one connection and a short wait. */
async function singleConnectionDatabase(poolWaitMs: number): Promise<Database> {
  const testDb = await createTestDatabase('postgres');
  cleanups.push(() => testDb.cleanup());
  if (testDb.config.kind !== 'postgres') throw new Error('expected a PostgreSQL test database');
  const db = await createDatabase({ ...testDb.config, maxConnections: 1, poolWaitMs });
  cleanups.push(() => db.close());
  return db;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('databaseOutageOf on PostgreSQL', () => {
  it.skipIf(skip)(
    'every connection taken: a query and a transaction fail as MF_ERR_DB_BUSY, 503, retry in 1 s',
    async () => {
      const db = await singleConnectionDatabase(300);
      const release = await holdConnection(db);
      try {
        const startedAt = Date.now();
        const query = await rejection(db.prisma.modelLine.count());
        expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
        const transaction = await rejection(db.prisma.$transaction(async (tx) => tx.modelLine.count()));
        const batch = await rejection(db.prisma.$transaction([db.prisma.modelLine.count()]));
        for (const error of [query, transaction, batch]) {
          expect(databaseOutageOf(error)).toMatchObject({
            code: 'MF_ERR_DB_BUSY',
            statusCode: 503,
            details: { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS },
          });
        }
      } finally {
        await release();
      }
      // The connection came free: the same client works again.
      expect(await db.prisma.modelLine.count()).toBe(0);
    },
  );

  it.skipIf(skip)('nobody listening: MF_ERR_DB_UNAVAILABLE, retry in 5 s', async () => {
    const url = new URL(testDatabaseUrl());
    url.port = '1';
    const db = await createDatabase({ kind: 'postgres', url: url.toString(), poolWaitMs: 2_000 });
    cleanups.push(() => db.close());
    const error = await rejection(db.prisma.modelLine.count());
    expect(databaseOutageOf(error)).toMatchObject({
      code: 'MF_ERR_DB_UNAVAILABLE',
      statusCode: 503,
      details: { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS },
    });
  });

  it.skipIf(skip)('the backend terminated mid-query: MF_ERR_DB_UNAVAILABLE', async () => {
    const db = await singleConnectionDatabase(2_000);
    const [backend] = await db.prisma.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const pid = backend!.pid;
    const sleeping = rejection(db.prisma.$queryRaw`SELECT pg_sleep(30)`);
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      // Wait until the sleep is running on that backend, then end it as an operator (or a restart) would.
      for (;;) {
        const { rows } = await admin.query<{ state: string }>(
          `SELECT state FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'`,
          [pid],
        );
        if (rows[0]?.state === 'active') break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    expect(databaseOutageOf(await sleeping)).toMatchObject({ code: 'MF_ERR_DB_UNAVAILABLE', statusCode: 503 });
  });

  it.skipIf(skip)('leaves other failures alone: a unique violation, a bug, our own other errors', async () => {
    const db = await singleConnectionDatabase(2_000);
    const data = { name: 'twice', preprocessing: {}, policy: {} };
    await db.prisma.modelLine.create({ data });
    const duplicate = await rejection(db.prisma.modelLine.create({ data }));
    expect((duplicate as { code?: string }).code).toBe('P2002');
    expect(databaseOutageOf(duplicate)).toBeUndefined();
    expect(databaseOutageOf(new TypeError('x is undefined'))).toBeUndefined();
    expect(databaseOutageOf(new DatabaseClosed())).toBeUndefined();
    expect(databaseOutageOf(undefined)).toBeUndefined();
  });
});
