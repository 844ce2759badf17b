/**
 * @modelfleet/agent — the device agent (issue 5). The binary is `modelfleet-agent` (bin/); this index is the
 * public face for tests and for embedding the agent in another program.
 *
 *   parseAgentConfig({ flags, env }): AgentConfig              throws MF_ERR_AGENT_CONFIG_INVALID (all problems)
 *   createAgent(deps): Agent                                    { recover(), checkForUpdate(signal), … }
 *   runDaemon({ agent, config, log, signal }): Promise<void>    poll loop with jitter and capped backoff
 *   runAgentCli(argv, io): Promise<exit code>                   run | check | status
 *   verifyUpdate(answer, context): VerifiedUpdate               MF_ERR_UPDATE_REFUSED, details.rule
 *   downloadArtifact(request): DownloadResult                   resumable, verified
 *   installRelease(request) / recoverDataFolder(layout) / checkReleaseFolder(folder)
 *   smokeTest(artifact, preprocessing) / checkSmokeOutput(shape, values, classes)
 *   pollDelayMs / backoffDelayMs; readStatus(dataDir) / formatStatus(status)
 */
export * from './errors.js';
export { type AgentConfig, type InstallMode, INSTALL_MODES, parseAgentConfig, parseStatusConfig } from './config.js';
export { createAgent, type Agent, type AgentDeps, type CheckOutcome } from './agent.js';
export { runDaemon, type DaemonOptions } from './daemon.js';
export { EXIT, exitCodeOf, runAgentCli, type CliIo } from './cli/run.js';
export {
  verifyUpdate,
  refusalRuleOf,
  type RefusalRule,
  type VerifiedUpdate,
  type VerifyContext,
  type InstalledRelease,
} from './verify.js';
export { downloadArtifact, partialFile, completeFile, type DownloadRequest, type DownloadResult } from './download.js';
export {
  INSTALL_STEPS,
  checkReleaseFolder,
  currentRelease,
  installRelease,
  linkedSha256,
  recoverDataFolder,
  releaseFolder,
  type FaultHook,
  type InstallRequest,
  type InstallResult,
  type InstallStep,
  type ReleaseRecord,
} from './install.js';
export { checkSmokeOutput, readModelFolder, smokeTest, smokeTestFolder, type SmokeResult } from './smoke.js';
export { smokeTestInChildProcess, answerSmokeRequest, SMOKE_COMMAND } from './smoke-process.js';
export { deviceRuntime, type DeviceRuntime } from './runtime.js';
export { POLL_JITTER_FRACTION, backoffDelayMs, pollDelayMs } from './backoff.js';
export { createOutbox, type Outbox, type ReportDraft } from './outbox.js';
export { dataLayout, RELEASE_FILES, type DataLayout } from './layout.js';
export { readStatus, formatStatus, type AgentStatus } from './status.js';
export { createLogger, silentLogger, type AgentLogger, type LogLevel } from './log.js';
