import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DatabaseConfig, DatabaseKind } from './config.js';
import { DatabaseClosed, DatabaseUnavailable, InvalidDatabaseConfig } from './errors.js';
import { PrismaClient } from './generated/prisma/client.js';
import { openPgliteDriver, type PgliteDriver } from './pglite-driver.js';
import { DEFAULT_POOL_WAIT_MS, openPostgresDriver, type PostgresDriver } from './postgres-driver.js';

/**
 * An interactive transaction's longest run once started (Prisma's default is 5 s). Under load a short
 * transaction can wait its turn for row locks; past this it is rolled back and the request gets MF_ERR_DB_BUSY.
 */
const TRANSACTION_TIMEOUT_MS = 15_000;

/** The driver beneath Prisma, by kind: PGlite's instance or PostgreSQL's pool. */
export type DatabaseDriver = PgliteDriver | PostgresDriver;

export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: DatabaseKind;
  /** Plain SQL beneath Prisma (migrations, advisory locks, LISTEN/NOTIFY-style needs). */
  readonly driver: DatabaseDriver;
  /** Resolves when the database answers a trivial query; rejects with MF_ERR_DB_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /**
   * Disconnects Prisma and closes the driver. Idempotent: every call returns the same promise, so
   * a SIGTERM handler and a normal shutdown path may both call it. It waits for queries in flight.
   * PGlite must be closed before the process ends: close() is what flushes it and shuts it down
   * (DESIGN.md reports exit code 99 otherwise; PGlite 0.5.17 exited 0 unclosed in a short script
   * here, so that is not the only risk being guarded against).
   */
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface CreateDatabaseOptions {
  /** Told about errors of idle PostgreSQL connections (e.g. a server restart); they never throw. */
  onConnectionError?: (error: Error) => void;
}

/** Plain identifiers only: the schema goes into a connection option and into DDL unquoted by tools. */
const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens the database the configuration names: PGlite (embedded) or PostgreSQL. Does not migrate. */
export async function createDatabase(config: DatabaseConfig, options: CreateDatabaseOptions = {}): Promise<Database> {
  let driver: DatabaseDriver;
  let prisma: PrismaClient;
  if (config.kind === 'pglite') {
    if (config.dataDir === '') throw new InvalidDatabaseConfig('PGlite needs a data folder');
    const pgliteDriver = await openPgliteDriver(config.dataDir);
    driver = pgliteDriver;
    prisma = new PrismaClient({ adapter: new PrismaPGlite(pgliteDriver.pglite) });
  } else {
    const { url, schema } = splitSchemaParameter(config.url, config.schema);
    if (schema !== undefined && !schemaNamePattern.test(schema)) {
      throw new InvalidDatabaseConfig(`schema name ${JSON.stringify(schema)} is not a plain lower-case identifier`);
    }
    const postgresDriver = openPostgresDriver(
      { ...config, url, ...(schema === undefined ? {} : { schema }) },
      options.onConnectionError ?? (() => {}),
    );
    driver = postgresDriver;
    prisma = new PrismaClient({
      adapter: new PrismaPg(postgresDriver.pool, schema === undefined ? undefined : { schema }),
      // A transaction waits for a connection as long as a plain query does (the pool's checkout timeout).
      transactionOptions: { maxWait: config.poolWaitMs ?? DEFAULT_POOL_WAIT_MS, timeout: TRANSACTION_TIMEOUT_MS },
    });
  }

  let closing: Promise<void> | undefined;
  return {
    prisma,
    kind: config.kind,
    driver,
    get closed() {
      return closing !== undefined;
    },
    async ping() {
      if (closing !== undefined) throw new DatabaseClosed();
      try {
        await driver.withSession((session) => session.query('SELECT 1'));
      } catch (error) {
        throw new DatabaseUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
      }
    },
    close() {
      closing ??= (async () => {
        try {
          await prisma.$disconnect();
        } finally {
          await driver.close();
        }
      })();
      return closing;
    },
  };
}

/**
 * Takes Prisma's `?schema=` convention out of a PostgreSQL URL (node-postgres does not know it), so
 * `DATABASE_URL=postgresql://host/db?schema=tenant_a` works as users of Prisma expect. An explicit
 * `schema` in the configuration wins.
 */
function splitSchemaParameter(rawUrl: string, explicitSchema: string | undefined): { url: string; schema?: string } {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new InvalidDatabaseConfig('DATABASE_URL is not a URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new InvalidDatabaseConfig('DATABASE_URL must be a postgresql:// URL');
  }
  const fromUrl = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  const schema = explicitSchema ?? fromUrl;
  return schema === undefined ? { url: url.toString() } : { url: url.toString(), schema };
}
