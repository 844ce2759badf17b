import { defineError, ModelFleetError } from '@modelfleet/errors';
import type { ErrorResponse } from '@modelfleet/contracts';

/**
 * The CLI's own failures. Their HTTP statuses only say which side is at fault (4xx: the caller's input,
 * 5xx: the path to the server); the process exit code is decided in `run.ts` (2 for usage, 1 otherwise).
 */
export const UsageInvalid = defineError('MF_ERR_CLI_USAGE', 400, '%s');
export const ConnectionMissing = defineError(
  'MF_ERR_CLI_NOT_LOGGED_IN',
  401,
  'no %s configured: run `modelfleet login --server URL --key KEY`, set MODELFLEET_SERVER and MODELFLEET_KEY, or pass --server and --key',
);
export const ConfigInvalid = defineError('MF_ERR_CLI_CONFIG_INVALID', 400, 'config file %s is unreadable: %s');
export const ServerUnreachable = defineError(
  'MF_ERR_CLI_SERVER_UNREACHABLE',
  503,
  'cannot reach the ModelFleet server at %s (%s): %s',
);
export const ResponseUnexpected = defineError('MF_ERR_CLI_UNEXPECTED_RESPONSE', 502, '%s %s answered HTTP %s with %s');
export const UploadSourceInvalid = defineError('MF_ERR_CLI_UPLOAD_SOURCE_INVALID', 400, '%s');
export const ModelJsonInvalid = defineError(
  'MF_ERR_CLI_MODEL_JSON_INVALID',
  400,
  '%s is not a usable TF.js model.json: %s',
);
export const ShardMissing = defineError(
  'MF_ERR_CLI_SHARD_MISSING',
  400,
  'model.json in %s names weight shard(s) that are not there: %s',
);
export const FileChanged = defineError(
  'MF_ERR_CLI_FILE_CHANGED',
  409,
  '%s changed size while it was being uploaded (%s bytes expected)',
);
export const WaitTimedOut = defineError('MF_ERR_CLI_WAIT_TIMEOUT', 504, 'version %s is still %s after %s seconds');

/**
 * An error answer from the server, carrying the server's own stable code (MF_ERR_…), status and details,
 * so callers (the CLI, the dashboard, the e2e tests) match on `code` as they would on the server side.
 */
export class CliApiError extends ModelFleetError {
  readonly method: string;
  readonly url: string;
  readonly requestId: string | undefined;

  constructor(method: string, url: string, response: ErrorResponse) {
    super(
      response.code,
      response.statusCode,
      response.message,
      response.details === undefined ? undefined : { details: response.details },
    );
    this.name = 'CliApiError';
    this.method = method;
    this.url = url;
    this.requestId = response.requestId;
  }
}
