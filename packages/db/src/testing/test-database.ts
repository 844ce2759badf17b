import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig, DatabaseKind } from '../config.js';
import { createDatabase, type Database } from '../database.js';
import { DatabaseUnavailable } from '../errors.js';
import { migrate, type MigrateOptions } from '../migrations/migrate.js';
import { readMigrationFiles } from '../migrations/migration-files.js';
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
 * PGlite's first start runs initdb, about 3 s here (far more on a busy machine); copying a closed,
 * migrated data folder takes about 0.6 s (measured: 40 MB). So PGlite test databases start as a
 * copy of a template folder, built once and shared by every test process of every package through
 * the temp folder. Its name carries a hash of what it contains (PGlite version, flavour, the
 * migrations' checksums), so a new migration gets a new template; it is built aside and renamed
 * into place, so a template is either complete or absent, even with processes racing.
 */
const pgliteTemplates = new Map<string, Promise<string>>();
const templatePrefix = 'modelfleet-pglite-template-';

async function pgliteTemplate(flavour: 'migrated' | 'empty'): Promise<string> {
  const migrations = flavour === 'migrated' ? await readMigrationFiles() : [];
  const key = createHash('sha256')
    .update(JSON.stringify([pgliteVersion(), flavour, migrations.map((migration) => migration.checksum)]))
    .digest('hex')
    .slice(0, 16);
  let template = pgliteTemplates.get(key);
  if (template === undefined) {
    template = buildPgliteTemplate(join(tmpdir(), `${templatePrefix}${key}`), flavour === 'migrated');
    pgliteTemplates.set(key, template);
    template.catch(() => pgliteTemplates.delete(key));
  }
  return template;
}

/**
 * Lays a migrated PGlite database into `dataDir` by copying the shared template (about 0.5 s instead of
 * an initdb of several seconds): for tests that start a whole server on a fresh data folder.
 */
export async function copyMigratedPgliteTemplate(dataDir: string): Promise<void> {
  await cp(await pgliteTemplate('migrated'), dataDir, { recursive: true });
}

async function buildPgliteTemplate(folder: string, migrated: boolean): Promise<string> {
  const dataDir = join(folder, 'pgdata');
  if (await exists(join(dataDir, 'PG_VERSION'))) return dataDir;
  const building = await mkdtemp(join(tmpdir(), 'modelfleet-pglite-building-'));
  try {
    const db = await createDatabase({ kind: 'pglite', dataDir: join(building, 'pgdata') });
    try {
      if (migrated) await migrate(db);
    } finally {
      await db.close();
    }
    try {
      await rename(building, folder);
    } catch (error) {
      // Another process finished the same template first: use theirs.
      if (!(await exists(join(dataDir, 'PG_VERSION')))) throw error;
    }
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return dataDir;
}

/** PGlite's version (its package.json is not exported, so it is read beside the resolved entry). */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
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
