import { join } from 'node:path';

/** The embedded default: PostgreSQL compiled to wasm, in this process, data in a local folder. */
export interface PgliteDatabaseConfig {
  kind: 'pglite';
  /** Folder that holds the database files, e.g. `<MODELFLEET_DATA_DIR>/pgdata`; `memory://` for a throw-away one. */
  dataDir: string;
}

/** Production / scale-out: a PostgreSQL server. */
export interface PostgresDatabaseConfig {
  kind: 'postgres';
  /** A `postgresql://` connection string (`DATABASE_URL`). */
  url: string;
  /** PostgreSQL schema to keep the tables in (default `public`); tests use one schema each. */
  schema?: string;
  /** Most connections this process opens (default 10). */
  maxConnections?: number;
  /**
   * How long a query or transaction waits for a free connection before it fails with MF_ERR_DB_BUSY
   * (default 5,000 ms); also the time a new connection has to open.
   */
  poolWaitMs?: number;
}

export type DatabaseConfig = PgliteDatabaseConfig | PostgresDatabaseConfig;

export type DatabaseKind = DatabaseConfig['kind'];

/**
 * The configuration the project's environment names describe: PostgreSQL when `DATABASE_URL` is
 * set, otherwise PGlite in `<MODELFLEET_DATA_DIR>/pgdata`.
 */
export function databaseConfigFromSettings(settings: {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** `DATABASE_POOL_MAX`: connections per process (PostgreSQL). */
  poolMax?: number | undefined;
  /** `DATABASE_POOL_WAIT_MS`: wait for a free connection before MF_ERR_DB_BUSY (PostgreSQL). */
  poolWaitMs?: number | undefined;
}): DatabaseConfig {
  if (settings.databaseUrl !== undefined && settings.databaseUrl !== '') {
    return {
      kind: 'postgres',
      url: settings.databaseUrl,
      ...(settings.poolMax === undefined ? {} : { maxConnections: settings.poolMax }),
      ...(settings.poolWaitMs === undefined ? {} : { poolWaitMs: settings.poolWaitMs }),
    };
  }
  return { kind: 'pglite', dataDir: join(settings.dataDir, 'pgdata') };
}
