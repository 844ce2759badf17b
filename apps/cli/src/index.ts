/**
 * @modelfleet/cli — the `modelfleet` command line, and the typed REST client it is built on, which the
 * dashboard and the end-to-end tests use too.
 */
export {
  createApiClient,
  type ApiClient,
  type ApiClientOptions,
  type CandidateTableFormat,
  type DatasetUpload,
  type UploadOptions,
  type VersionList,
} from './client.js';
export {
  CliApiError,
  ConfigInvalid,
  ConnectionMissing,
  FileChanged,
  ModelJsonInvalid,
  ResponseUnexpected,
  ServerUnreachable,
  ShardMissing,
  UploadSourceInvalid,
  UsageInvalid,
  WaitTimedOut,
} from './errors.js';
export {
  buildMultipartBody,
  filePart,
  type MultipartBody,
  type MultipartField,
  type MultipartFile,
  type MultipartPart,
  type ProgressListener,
} from './multipart.js';
export {
  resolveDatasetFile,
  resolveVersionUpload,
  weightShardPaths,
  type VersionUploadSource,
} from './upload-source.js';
export { waitForVersion, isFinished, type WaitOptions } from './wait.js';
export {
  configFilePath,
  readStoredConfig,
  writeStoredConfig,
  resolveConnection,
  normaliseServerUrl,
  type Connection,
  type ConnectionFlags,
  type ConnectionSource,
  type StoredConfig,
} from './config.js';
export { renderCandidateTable, renderVersionReport } from './render/candidates.js';
export type { CliContext, CliOutput } from './context.js';
export { createProgram } from './program.js';
export { runCli, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './run.js';
