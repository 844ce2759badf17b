import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresTestAvailability, type TestDatabase } from '../testing/index.js';
import { defaultSchemaPath, diffDatabaseToSchema, diffMigrationsToSchema } from './schema-diff.js';

const postgres = await postgresTestAvailability();
const skipPostgres = !postgres.available && !postgres.required;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function migratedDatabase(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  const testDb = await createTestDatabase(kind);
  cleanups.push(() => testDb.cleanup());
  return testDb;
}

describe('the migrations and schema.prisma agree', () => {
  it('replaying prisma/migrations on an empty database yields exactly schema.prisma', async () => {
    expect(await diffMigrationsToSchema()).toBe('');
  });
});

describe.each([
  { kind: 'pglite' as const, skip: false },
  { kind: 'postgres' as const, skip: skipPostgres },
])('a database migrated by our runner on $kind', ({ kind, skip }) => {
  it.skipIf(skip)('is exactly what schema.prisma describes', async () => {
    const testDb = await migratedDatabase(kind);
    expect(await diffDatabaseToSchema(testDb.db)).toBe('');
  });

  it.skipIf(skip)('is reported as different once it drifts (the check can fail)', async () => {
    const testDb = await migratedDatabase(kind);
    await testDb.db.driver.withSession((session) =>
      session.exec('DROP INDEX "candidates_artifact_sha256_idx"; ALTER TABLE "devices" DROP COLUMN "runtime";'),
    );
    const drift = await diffDatabaseToSchema(testDb.db);
    expect(drift).toContain('candidates_artifact_sha256_idx');
    expect(drift).toContain('"runtime"');
  });
});

describe('the check against the migrations can fail', () => {
  it('reports a schema.prisma change that no migration makes yet', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'modelfleet-schema-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const changed = (await readFile(defaultSchemaPath, 'utf8')).replace(
      /model ApiKey \{\n/,
      'model ApiKey {\n  description String? @map("description")\n',
    );
    const schemaPath = join(folder, 'schema.prisma');
    await writeFile(schemaPath, changed);
    expect(await diffMigrationsToSchema({ schemaPath })).toMatch(
      /ALTER TABLE "api_keys" ADD COLUMN\s+"description" TEXT/,
    );
  });
});
