/**
 * @modelfleet/db — the data model (Prisma 7 over PGlite or PostgreSQL) and its migrations.
 *
 *   const db = await createDatabase(databaseConfigFromSettings({ databaseUrl, dataDir }));
 *   await migrate(db);
 *   await db.prisma.modelLine.findMany();
 *   await db.close(); // always, also on SIGTERM: it flushes and shuts PGlite down
 *
 * Tests: `createTestDatabase(kind)` from `@modelfleet/db/testing`.
 */
export {
  databaseConfigFromSettings,
  type DatabaseConfig,
  type DatabaseKind,
  type PgliteDatabaseConfig,
  type PostgresDatabaseConfig,
} from './config.js';
export { createDatabase, type CreateDatabaseOptions, type Database, type DatabaseDriver } from './database.js';
export {
  DatabaseBusy,
  DatabaseClosed,
  DatabaseUnavailable,
  InvalidDatabaseConfig,
  MigrationChecksumMismatch,
  MigrationFailed,
  MigrationsFolderInvalid,
  MigrationUnknown,
} from './errors.js';
export { BUSY_RETRY_AFTER_SECONDS, databaseOutageOf, UNAVAILABLE_RETRY_AFTER_SECONDS } from './outage.js';
export { migrate, migrationsTable, type MigrateOptions, type MigrateResult } from './migrations/migrate.js';
export {
  defaultMigrationsDir,
  migrationChecksum,
  readMigrationFiles,
  type MigrationFile,
} from './migrations/migration-files.js';
export type { PgliteDriver } from './pglite-driver.js';
export type { PostgresDriver } from './postgres-driver.js';
export type { SqlDriver, SqlQueryable, SqlSession } from './sql-driver.js';

// The generated client: the PrismaClient class, the Prisma namespace (errors, input types,
// Prisma.DbNull/JsonNull), the model types (ModelLine, Candidate, Release, ...) and the enums.
export * from './generated/prisma/client.js';
