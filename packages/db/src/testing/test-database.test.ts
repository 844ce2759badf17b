import { stat } from 'node:fs/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, postgresTestAvailability, testDatabaseUrl } from './index.js';

const postgres = await postgresTestAvailability();
const skipPostgres = !postgres.available && !postgres.required;

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    return rows.length === 1;
  } finally {
    await client.end();
  }
}

async function folderExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe.each([
  { kind: 'pglite' as const, skip: false },
  { kind: 'postgres' as const, skip: skipPostgres },
])('createTestDatabase($kind)', ({ kind, skip }) => {
  it.skipIf(skip)('gives each caller its own migrated database and removes it on cleanup', async () => {
    const [first, second] = await Promise.all([createTestDatabase(kind), createTestDatabase(kind)]);
    try {
      await first.db.prisma.modelLine.create({ data: { name: 'only-in-first', preprocessing: {}, policy: {} } });
      expect(await first.db.prisma.modelLine.count()).toBe(1);
      expect(await second.db.prisma.modelLine.count()).toBe(0);
    } finally {
      await Promise.all([first.cleanup(), second.cleanup()]);
    }
    await first.cleanup(); // idempotent

    if (first.config.kind === 'pglite') {
      expect(await folderExists(first.config.dataDir)).toBe(false);
    } else {
      expect(first.config.schema).toMatch(/^mf_test_/);
      expect(await schemaExists(first.config.schema!)).toBe(false);
    }
  });
});
