import { defineError } from '@modelfleet/errors';

export const AgentConfigInvalid = defineError(
  'MF_ERR_AGENT_CONFIG_INVALID',
  400,
  'agent configuration is not usable: %s',
);
export const AgentNotEnrolled = defineError('MF_ERR_AGENT_NOT_ENROLLED', 401, 'device is not enrolled: %s');
/** An answer from the server the agent refuses to act on (bad signature, rollback, freeze, mismatch). */
export const UpdateRefused = defineError('MF_ERR_UPDATE_REFUSED', 400, 'update refused: %s');
export const DownloadCorrupt = defineError('MF_ERR_DOWNLOAD_CORRUPT', 502, 'downloaded artifact does not match: %s');
export const DownloadFailed = defineError('MF_ERR_DOWNLOAD_FAILED', 502, 'download failed: %s');
export const ServerUnavailable = defineError('MF_ERR_SERVER_UNAVAILABLE', 503, 'server unavailable: %s');
export const ServerRejected = defineError('MF_ERR_SERVER_REJECTED', 400, 'server rejected the request: %s');
export const SmokeTestFailed = defineError('MF_ERR_SMOKE_TEST_FAILED', 422, 'smoke test failed: %s');
export const InstallFailed = defineError('MF_ERR_INSTALL_FAILED', 500, 'install failed: %s');
/** Thrown by the test fault hook between install steps (simulates a crash). */
export const InstallInterrupted = defineError('MF_ERR_INSTALL_INTERRUPTED', 500, 'install interrupted at %s');
