import type { DatabaseKind } from './config.js';

/** Plain SQL on one connection, beneath Prisma: what the migration runner and health checks need. */
export interface SqlQueryable {
  /** Runs a script of one or more statements, without parameters (simple query protocol). */
  exec(script: string): Promise<void>;
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** One connection held for a while (e.g. to keep a session-level advisory lock). */
export interface SqlSession extends SqlQueryable {
  /** Runs `work` in a transaction on this connection: commit when it resolves, roll back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

/** The database below Prisma: PGlite in this process, or a pool of PostgreSQL connections. */
export interface SqlDriver {
  readonly kind: DatabaseKind;
  /** The PostgreSQL schema the tables live in (`public` unless configured). */
  readonly schema: string;
  /** Runs `work` on one connection that nothing else uses meanwhile. */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Closes every connection (PGlite: flushes and shuts the in-process server down). */
  close(): Promise<void>;
}

/** Quotes an SQL identifier (schema, table) for interpolation into a statement. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
