import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../database.js';
import { createTestDatabase, postgresTestAvailability, type TestDatabase } from '../testing/index.js';
import { migrate, migrationLockNamespace, migrationsTable } from './migrate.js';
import { migrationChecksum, readMigrationFiles, type MigrationFile } from './migration-files.js';

const postgres = await postgresTestAvailability();
const skipPostgres = !postgres.available && !postgres.required;

function migration(name: string, sql: string): MigrationFile {
  return { name, sql, checksum: migrationChecksum(sql) };
}

const tableA = migration('20260101000000_table_a', 'CREATE TABLE table_a (id INTEGER PRIMARY KEY);');
const tableB = migration('20260102000000_table_b', 'CREATE TABLE table_b (id INTEGER PRIMARY KEY);');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function testDatabase(kind: 'pglite' | 'postgres', migrateNow = false): Promise<TestDatabase> {
  const testDb = await createTestDatabase(kind, { migrate: migrateNow });
  cleanups.push(() => testDb.cleanup());
  return testDb;
}

async function tablesOf(testDb: TestDatabase): Promise<string[]> {
  const rows = await testDb.db.driver.withSession((session) =>
    session.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [testDb.db.driver.schema],
    ),
  );
  return rows.map((row) => row.table_name);
}

async function recordsOf(testDb: TestDatabase): Promise<{ name: string; checksum: string }[]> {
  return testDb.db.driver.withSession((session) =>
    session.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${migrationsTable} ORDER BY name`),
  );
}

describe.each([
  { kind: 'pglite' as const, skip: false },
  { kind: 'postgres' as const, skip: skipPostgres },
])('migrate() on $kind', ({ kind, skip }) => {
  it.skipIf(skip)('applies every migration to a fresh database, then nothing on a second run', async () => {
    const testDb = await testDatabase(kind);
    const files = await readMigrationFiles();
    expect(files.length).toBeGreaterThan(0);

    const first = await migrate(testDb.db);
    expect(first).toEqual({ applied: files.map((file) => file.name), alreadyApplied: [] });
    expect(await recordsOf(testDb)).toEqual(files.map(({ name, checksum }) => ({ name, checksum })));
    expect(await tablesOf(testDb)).toEqual(
      expect.arrayContaining(['model_lines', 'candidates', 'releases', 'devices']),
    );

    const second = await migrate(testDb.db);
    expect(second).toEqual({ applied: [], alreadyApplied: files.map((file) => file.name) });
  });

  it.skipIf(skip)('refuses an applied migration whose file was modified', async () => {
    const testDb = await testDatabase(kind);
    await migrate(testDb.db, { migrations: [tableA] });

    const edited = migration(tableA.name, tableA.sql.replace('id INTEGER', 'id BIGINT'));
    await expect(migrate(testDb.db, { migrations: [edited, tableB] })).rejects.toMatchObject({
      code: 'MF_ERR_DB_MIGRATION_MODIFIED',
    });
    expect(await tablesOf(testDb)).not.toContain('table_b');
  });

  it.skipIf(skip)('refuses a database that has a migration the code does not know', async () => {
    const testDb = await testDatabase(kind);
    await migrate(testDb.db, { migrations: [tableA, tableB] });
    await expect(migrate(testDb.db, { migrations: [tableA] })).rejects.toMatchObject({
      code: 'MF_ERR_DB_MIGRATION_UNKNOWN',
    });
  });

  it.skipIf(skip)('rolls a failing migration back whole: neither its tables nor its record remain', async () => {
    const testDb = await testDatabase(kind);
    const broken = migration(tableB.name, 'CREATE TABLE table_b (id INTEGER); SELECT * FROM no_such_table;');
    await expect(migrate(testDb.db, { migrations: [tableA, broken] })).rejects.toMatchObject({
      code: 'MF_ERR_DB_MIGRATION_FAILED',
    });
    expect(await tablesOf(testDb)).toContain('table_a');
    expect(await tablesOf(testDb)).not.toContain('table_b');
    expect((await recordsOf(testDb)).map((record) => record.name)).toEqual([tableA.name]);

    // The fixed migration was never applied, so it may differ from the broken one.
    const result = await migrate(testDb.db, { migrations: [tableA, tableB] });
    expect(result.applied).toEqual([tableB.name]);
  });
});

describe.skipIf(skipPostgres)('migrate() with several processes on one PostgreSQL', () => {
  it('runners wait for each other on the advisory lock; exactly one applies the migrations', async () => {
    const testDb = await testDatabase('postgres');
    const schema = testDb.db.driver.schema;
    // A second client with its own pool stands for a second process starting at the same time.
    const other = await createDatabase(testDb.config);
    cleanups.push(() => other.close());

    // Hold the lock so both runners are certainly in flight together, then let them go.
    const holder = new pg.Client({ connectionString: (testDb.config as { url: string }).url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [migrationLockNamespace, schema]);

    const runners = [migrate(testDb.db), migrate(other)];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await holder.query<{ waiting: string }>(
        `SELECT count(*) AS waiting FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = hashtext($2)::oid`,
        [migrationLockNamespace, schema],
      );
      if (Number(rows[0]?.waiting) === 2) break;
      if (Date.now() > deadline) throw new Error('the two runners never both waited for the migration lock');
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await tablesOf(testDb)).not.toContain('model_lines'); // nothing ran while the lock was held
    await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [migrationLockNamespace, schema]);

    const results = await Promise.all(runners);
    const names = (await readMigrationFiles()).map((file) => file.name);
    const appliedCounts = results.map((result) => result.applied.length).sort();
    expect(appliedCounts).toEqual([0, names.length]);
    expect((await recordsOf(testDb)).map((record) => record.name)).toEqual(names);
  });

  it('two runners racing on a fresh schema both succeed', async () => {
    const testDb = await testDatabase('postgres');
    const other = await createDatabase(testDb.config);
    cleanups.push(() => other.close());
    const results = await Promise.all([migrate(testDb.db), migrate(other)]);
    expect(results.flatMap((result) => result.applied)).toEqual((await readMigrationFiles()).map((file) => file.name));
  });
});
