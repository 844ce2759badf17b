/**
 * @modelfleet/db/testing — an isolated, migrated database per test, on PGlite or PostgreSQL.
 *
 *   const testDb = await createTestDatabase('postgres');
 *   afterAll(() => testDb.cleanup());
 *   await testDb.db.prisma.modelLine.create({ ... });
 *
 * PostgreSQL: `TEST_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/postgres); each
 * call creates its own schema `mf_test_<random>` and drops it in `cleanup()`. Under `CI=true` a
 * missing server is an error, never a skip — use `postgresTestAvailability()` to decide.
 */
export {
  copyMigratedPgliteTemplate,
  createTestDatabase,
  defaultTestDatabaseUrl,
  postgresTestAvailability,
  testDatabaseUrl,
  type CreateTestDatabaseOptions,
  type PostgresTestAvailability,
  type TestDatabase,
} from './test-database.js';
export { holdConnection } from './hold-connection.js';
export { insertReadyCandidate } from './candidates.js';
