import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig, DatabaseKind } from '../config.js';
import { createDatabase, type Database } from '../database.js';
import { DatabaseUnavailable } from '../errors.js';
import { migrate, type MigrateOptions } from '../migrations/migrate.js';
import { quoteIdentifier } from '../sql-driver.js';

export const defaultTestDatabaseUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

export function testDatabaseUrl(): string {
  const fromEnv = process.env.TEST_DATABASE_URL;
  return fromEnv === undefined || fromEnv === '' ? defaultTestDatabaseUrl : fromEnv;
}

export interface PostgresTestAvailability {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  /** True when the tests must run (CI=true): a suite should then fail rather than skip. */
  required: boolean;
}

/**
 * Whether the test PostgreSQL answers. Suites use it to skip on a developer machine without one:
 *   describe.skipIf(!pgTest.available && !pgTest.required)(...)
 * so that under CI=true the suite runs and fails loudly when the server is absent.
 */
export async function postgresTestAvailability(): Promise<PostgresTestAvailability> {
  const required = process.env.CI === 'true';
  const client = new pg.Client({ connectionString: testDatabaseUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { available: true, required };
  } catch (error) {
    return { available: false, required, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

export interface CreateTestDatabaseOptions extends MigrateOptions {
  /** Leave the database empty (no migrations applied), e.g. to test the runner itself. */
  migrate?: boolean;
}

export interface TestDatabase {
  db: Database;
  kind: DatabaseKind;
  /** The configuration that opens this same database again (another client in the same test). */
  config: DatabaseConfig;
  /**
   * PostgreSQL: a `DATABASE_URL` (with `?schema=`) that other processes of the test can use.
   * PGlite: undefined (only this process can open it).
   */
  databaseUrl: string | undefined;
  /** Closes the database and removes it (the schema, or the PGlite folder). Idempotent. */
  cleanup(): Promise<void>;
}

async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DatabaseUnavailable(`test PostgreSQL at ${url} (set TEST_DATABASE_URL): ${message}`, { cause: error });
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * PGlite's first start runs initdb, about 3 s here; copying a closed, migrated data folder takes
 * about 0.6 s (measured: 40 MB). So each process builds one template per flavour (migrated with the
 * repository's migrations, or empty) and every PGlite test database starts as a copy of it.
 */
const pgliteTemplates = new Map<'migrated' | 'empty', Promise<string>>();

function pgliteTemplate(flavour: 'migrated' | 'empty'): Promise<string> {
  let template = pgliteTemplates.get(flavour);
  if (template === undefined) {
    template = (async () => {
      const folder = await mkdtemp(join(tmpdir(), `modelfleet-db-template-${flavour}-`));
      // Test processes are short-lived; remove the template when this one ends.
      process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
      const dataDir = join(folder, 'pgdata');
      const db = await createDatabase({ kind: 'pglite', dataDir });
      try {
        if (flavour === 'migrated') await migrate(db);
      } finally {
        await db.close();
      }
      return dataDir;
    })();
    pgliteTemplates.set(flavour, template);
    template.catch(() => pgliteTemplates.delete(flavour));
  }
  return template;
}

/** An isolated database for one test file or case, migrated unless told otherwise. */
export async function createTestDatabase(
  kind: DatabaseKind,
  options: CreateTestDatabaseOptions = {},
): Promise<TestDatabase> {
  const suffix = randomBytes(6).toString('hex');
  let config: DatabaseConfig;
  let databaseUrl: string | undefined;
  let removeStorage: () => Promise<void>;

  if (kind === 'pglite') {
    const customMigrations = options.migrations !== undefined || options.migrationsDir !== undefined;
    const template = await pgliteTemplate(options.migrate === false || customMigrations ? 'empty' : 'migrated');
    const folder = await mkdtemp(join(tmpdir(), 'modelfleet-db-test-'));
    config = { kind: 'pglite', dataDir: join(folder, 'pgdata') };
    await cp(template, config.dataDir, { recursive: true });
    removeStorage = () => rm(folder, { recursive: true, force: true });
  } else {
    const url = testDatabaseUrl();
    const schema = `mf_test_${suffix}`;
    await withAdminClient(url, (client) => client.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`));
    config = { kind: 'postgres', url, schema, maxConnections: 5 };
    const withSchema = new URL(url);
    withSchema.searchParams.set('schema', schema);
    databaseUrl = withSchema.toString();
    removeStorage = () =>
      withAdminClient(url, async (client) => {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      });
  }

  let db: Database;
  try {
    db = await createDatabase(config);
    if (options.migrate !== false) await migrate(db, options);
  } catch (error) {
    await removeStorage().catch(() => {});
    throw error;
  }

  let cleaning: Promise<void> | undefined;
  return {
    db,
    kind,
    config,
    databaseUrl,
    cleanup() {
      cleaning ??= (async () => {
        try {
          await db.close();
        } finally {
          await removeStorage();
        }
      })();
      return cleaning;
    },
  };
}
