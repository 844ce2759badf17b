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
}): DatabaseConfig {
  if (settings.databaseUrl !== undefined && settings.databaseUrl !== '') {
    return { kind: 'postgres', url: settings.databaseUrl };
  }
  return { kind: 'pglite', dataDir: join(settings.dataDir, 'pgdata') };
}
