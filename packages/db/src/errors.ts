import { defineError } from '@modelfleet/errors';

/** The errors of the database package, defined once; callers and tests match on `code`. */

export const DatabaseUnavailable = defineError('MF_ERR_DB_UNAVAILABLE', 503, 'database unavailable: %s');

/**
 * Every connection is taken and none came free in time (pool checkout or transaction start timed out, or
 * the server refused another connection): the request may succeed a moment later. `details.retryAfterSeconds`.
 */
export const DatabaseBusy = defineError('MF_ERR_DB_BUSY', 503, 'the database is busy: %s; retry in a moment');

export const DatabaseClosed = defineError<[]>('MF_ERR_DB_CLOSED', 503, 'the database has been closed');

export const InvalidDatabaseConfig = defineError('MF_ERR_DB_CONFIG_INVALID', 500, 'invalid database configuration: %s');

/** An applied migration whose file changed afterwards: the database and the code disagree. */
export const MigrationChecksumMismatch = defineError<[string, string, string]>(
  'MF_ERR_DB_MIGRATION_MODIFIED',
  500,
  'migration %s was modified after it was applied (applied checksum %s, file checksum %s)',
);

/** The database has a migration recorded that this code does not know: it is newer than the code. */
export const MigrationUnknown = defineError(
  'MF_ERR_DB_MIGRATION_UNKNOWN',
  500,
  'migration %s is applied to the database but missing from the migrations folder (is the code older than the database?)',
);

export const MigrationFailed = defineError<[string, string]>(
  'MF_ERR_DB_MIGRATION_FAILED',
  500,
  'migration %s failed: %s',
);

export const MigrationsFolderInvalid = defineError(
  'MF_ERR_DB_MIGRATIONS_FOLDER_INVALID',
  500,
  'migrations folder is invalid: %s',
);
