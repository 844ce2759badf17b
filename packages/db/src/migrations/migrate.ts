import type { Database } from '../database.js';
import { MigrationChecksumMismatch, MigrationFailed, MigrationUnknown } from '../errors.js';
import { quoteIdentifier, type SqlDriver } from '../sql-driver.js';
import { readMigrationFiles, type MigrationFile } from './migration-files.js';

/** Our record of applied migrations, beside the tables it created (in the same schema). */
export const migrationsTable = '_modelfleet_migrations';

/**
 * Key of the session-level advisory lock that serialises runners: several server or worker
 * processes starting at once against one PostgreSQL wait for each other instead of racing to
 * create the same tables. The second key is the schema, so isolated test schemas do not wait on
 * each other. (On PGlite the lock is trivially granted: one process, one connection.)
 */
export const migrationLockNamespace = 0x4d46_4442; // "MFDB"

export interface MigrateOptions {
  /** Folder of `<timestamp>_<name>/migration.sql` (default: the repository's prisma/migrations). */
  migrationsDir?: string;
  /** Migrations to apply instead of reading a folder (tests). */
  migrations?: readonly MigrationFile[];
}

export interface MigrateResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Names that were already applied before this call. */
  alreadyApplied: string[];
}

interface AppliedRow extends Record<string, unknown> {
  name: string;
  checksum: string;
}

/**
 * Applies the pending migrations in name order, each in its own transaction together with its
 * record, so a failed migration leaves neither half its tables nor a record. Refuses to run when an
 * applied migration's file changed (MF_ERR_DB_MIGRATION_MODIFIED) or is gone
 * (MF_ERR_DB_MIGRATION_UNKNOWN): the database would no longer be what the code expects.
 */
export async function migrate(
  db: Pick<Database, 'driver'> | SqlDriver,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const driver = 'driver' in db ? db.driver : db;
  const migrations = options.migrations ?? (await readMigrationFiles(options.migrationsDir));
  const table = `${quoteIdentifier(driver.schema)}.${quoteIdentifier(migrationsTable)}`;

  return driver.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1, hashtext($2))', [migrationLockNamespace, driver.schema]);
    try {
      await session.exec(
        `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(driver.schema)};
         CREATE TABLE IF NOT EXISTS ${table} (
           name TEXT PRIMARY KEY,
           checksum TEXT NOT NULL,
           applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
           duration_ms INTEGER NOT NULL
         );`,
      );
      const appliedRows = await session.query<AppliedRow>(`SELECT name, checksum FROM ${table} ORDER BY name`);
      const byName = new Map(migrations.map((migration) => [migration.name, migration]));
      for (const row of appliedRows) {
        const file = byName.get(row.name);
        if (file === undefined) throw new MigrationUnknown(row.name);
        if (file.checksum !== row.checksum) throw new MigrationChecksumMismatch(row.name, row.checksum, file.checksum);
      }

      const appliedNames = new Set(appliedRows.map((row) => row.name));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (appliedNames.has(migration.name)) continue;
        const started = performance.now();
        try {
          await session.transaction(async (tx) => {
            await tx.exec(migration.sql);
            await tx.query(`INSERT INTO ${table} (name, checksum, duration_ms) VALUES ($1, $2, $3)`, [
              migration.name,
              migration.checksum,
              Math.round(performance.now() - started),
            ]);
          });
        } catch (error) {
          throw new MigrationFailed(migration.name, error instanceof Error ? error.message : String(error), {
            cause: error,
          });
        }
        applied.push(migration.name);
      }
      return { applied, alreadyApplied: appliedRows.map((row) => row.name) };
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [migrationLockNamespace, driver.schema]);
    }
  });
}
