import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDriver, SqlQueryable, SqlSession } from './sql-driver.js';

export interface PgliteDriver extends SqlDriver {
  readonly kind: 'pglite';
  readonly pglite: PGlite;
}

function queryable(target: PGlite | Transaction): SqlQueryable {
  return {
    async exec(script) {
      await target.exec(script);
    },
    async query<Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      const result = await target.query<Row>(sql, [...params]);
      return result.rows;
    },
  };
}

/**
 * Opens PGlite on a data folder (created if missing). PGlite is one connection serving this whole
 * process, so a "session" is the instance itself; its `transaction()` holds PGlite's own mutex, so
 * Prisma's queries wait instead of interleaving with a migration.
 */
export async function openPgliteDriver(dataDir: string): Promise<PgliteDriver> {
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : dataDir);
  const session: SqlSession = {
    ...queryable(pglite),
    transaction: (work) => pglite.transaction((tx) => work(queryable(tx))),
  };
  return {
    kind: 'pglite',
    schema: 'public',
    pglite,
    withSession: (work) => work(session),
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
