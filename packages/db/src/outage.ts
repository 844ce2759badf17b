import { isModelFleetError, type ModelFleetError } from '@modelfleet/errors';
import { DatabaseBusy, DatabaseUnavailable } from './errors.js';

/** Seconds a client is told to wait (Retry-After) when every connection was taken. */
export const BUSY_RETRY_AFTER_SECONDS = 1;
/** Seconds a client is told to wait when the database cannot be reached at all. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Prisma's codes for a database that could not be reached or dropped the connection (P1001 not reachable,
 * P1002 reached but timed out, P1008 operation timed out, P1017 server closed the connection).
 */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017']);
/** Prisma: timed out fetching a connection from the pool; too many connections open. */
const BUSY_PRISMA_CODES = new Set(['P2024', 'P2037']);
/** Node's socket errors: the database host refused, reset, timed out or is unknown. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);
/**
 * PostgreSQL SQLSTATEs of the same two kinds: 53300 too_many_connections (busy); class 08 connection
 * exceptions, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (unavailable).
 */
const BUSY_SQLSTATES = new Set(['53300']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);

/** Messages that carry no code: node-postgres's pool checkout timeout and dropped connections, Prisma's P2028 family. */
const BUSY_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  // No connection came free for the transaction in time, or it ran past its timeout.
  /Unable to start a transaction in the given time/i,
  /cannot be executed on an expired transaction/i,
];
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /Connection is closed/i,
];

type Kind = 'busy' | 'unavailable';

function kindOf(error: object): Kind | undefined {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (BUSY_PRISMA_CODES.has(code) || BUSY_SQLSTATES.has(code)) return 'busy';
    if (UNAVAILABLE_PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code))
      return 'unavailable';
    if (/^08[0-9A-Z]{3}$/.test(code)) return 'unavailable';
  }
  if (typeof message === 'string') {
    if (BUSY_MESSAGES.some((pattern) => pattern.test(message))) return 'busy';
    if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  }
  return undefined;
}

/** The error and what it wraps: `cause` chains and the driver-adapter error Prisma keeps in `meta`. */
function* chain(error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 16) {
    const current = pending.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    yield current;
    const { cause, meta } = current as { cause?: unknown; meta?: { driverAdapterError?: { cause?: unknown } } };
    pending.push(cause, meta?.driverAdapterError, meta?.driverAdapterError?.cause);
  }
}

/**
 * Tells a database outage from any other failure: MF_ERR_DB_BUSY when every connection was taken and
 * none came free in time, MF_ERR_DB_UNAVAILABLE when the database cannot be reached or dropped the
 * connection; both 503 with `details.retryAfterSeconds`, so a caller (the HTTP error handler) can answer
 * "come back later" instead of a 500. Anything else, including constraint violations and bugs: undefined.
 */
export function databaseOutageOf(error: unknown): ModelFleetError | undefined {
  if (isModelFleetError(error)) {
    return error.code === DatabaseBusy.code || error.code === DatabaseUnavailable.code ? error : undefined;
  }
  for (const link of chain(error)) {
    const kind = kindOf(link);
    if (kind === undefined) continue;
    // The driver's own words (host names, ports) stay in the cause, for the log; the caller gets a fixed reason.
    return kind === 'busy'
      ? new DatabaseBusy('every connection is in use', {
          cause: error,
          details: { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS },
        })
      : new DatabaseUnavailable('it cannot be reached or closed the connection', {
          cause: error,
          details: { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS },
        });
  }
  return undefined;
}
