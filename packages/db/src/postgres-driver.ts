import pg from 'pg';
import type { PostgresDatabaseConfig } from './config.js';
import type { SqlDriver, SqlQueryable, SqlSession } from './sql-driver.js';

export const DEFAULT_POOL_MAX = 10;
export const DEFAULT_POOL_WAIT_MS = 5_000;

export interface PostgresDriver extends SqlDriver {
  readonly kind: 'postgres';
  readonly pool: pg.Pool;
}

function queryable(client: pg.PoolClient): SqlQueryable {
  return {
    async exec(script) {
      // Without parameters node-postgres uses the simple query protocol, which runs a whole script.
      await client.query(script);
    },
    async query<Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<Row>(sql, [...params]);
      return result.rows;
    },
  };
}

/**
 * A pool of PostgreSQL connections. When a schema is configured every connection starts with
 * `search_path` set to it (a startup option, so it also holds for raw SQL and for connections the
 * pool opens later), and Prisma is told the same schema for the names it qualifies.
 */
export function openPostgresDriver(
  config: PostgresDatabaseConfig,
  onPoolError: (error: Error) => void,
): PostgresDriver {
  const schema = config.schema ?? 'public';
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections ?? DEFAULT_POOL_MAX,
    // Bounds both the wait for a free connection when all are taken (the request then fails with
    // MF_ERR_DB_BUSY, a 503 with Retry-After) and the opening of a new one: a server that accepts TCP
    // but never answers must make ping() fail, not hang /readyz.
    connectionTimeoutMillis: config.poolWaitMs ?? DEFAULT_POOL_WAIT_MS,
    // The schema name was checked to be a plain identifier (see database.ts), so it needs no quoting.
    ...(config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` }),
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', onPoolError);
  let ended: Promise<void> | undefined;
  return {
    kind: 'postgres',
    schema,
    pool,
    async withSession(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const session: SqlSession = {
          ...queryable(client),
          async transaction(inner) {
            await client.query('BEGIN');
            try {
              const result = await inner(queryable(client));
              await client.query('COMMIT');
              return result;
            } catch (error) {
              await client.query('ROLLBACK').catch((rollbackError: Error) => {
                broken = rollbackError;
              });
              throw error;
            }
          },
        };
        return await work(session);
      } finally {
        // A client whose rollback failed is in an unknown state: destroy it rather than reuse it.
        client.release(broken);
      }
    },
    close() {
      ended ??= pool.end();
      return ended;
    },
  };
}
