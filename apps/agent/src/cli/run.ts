/**
 * The command line: `modelfleet-agent run | check | status [--json]`. Returns the exit code; the process entry
 * (main.ts) owns signals and process.exitCode.
 *
 * `check` exit codes (scripts and provisioning tools branch on them):
 *   0 nothing to do (up to date, or no release yet)   10 a new release was installed
 *   11 the new release failed its smoke test and was rolled back
 *   12 the server's answer was refused (signature, rollback, expiry, mismatch)
 *   13 download or install failed (old model kept)    3 server unreachable or refused the request
 *   4 not enrolled (no token)                          2 usage or configuration error
 */
import { parseArgs } from 'node:util';
import { isModelFleetError } from '@modelfleet/errors';
import { createAgent, type AgentDeps, type CheckOutcome } from '../agent.js';
import { OPTION_NAMES, parseAgentConfig, parseStatusConfig } from '../config.js';
import { runDaemon } from '../daemon.js';
import { AgentConfigInvalid, AgentNotEnrolled, InstallInterrupted } from '../errors.js';
import { INSTALL_STEPS, type InstallStep } from '../install.js';
import { createLogger } from '../log.js';
import { answerSmokeRequest, SMOKE_COMMAND, smokeTestInChildProcess } from '../smoke-process.js';
import { formatStatus, readStatus } from '../status.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Aborted on SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** The script running the agent (launcher or packed file): smoke tests run it as a child process. */
  entry?: string;
  /** All of stdin (only the hidden smoke command reads it). */
  readStdin?: () => Promise<string>;
}

export const EXIT = {
  ok: 0,
  usage: 2,
  server: 3,
  notEnrolled: 4,
  installed: 10,
  rolledBack: 11,
  refused: 12,
  failed: 13,
} as const;

const USAGE = `usage: modelfleet-agent <run|check|status> [options]
  run      poll for updates and install them until SIGTERM
  check    poll once, install if offered, exit (0 nothing new, 10 installed, 11 rolled back, 12 refused, 13 failed, 3 server)
  status   what this device runs (--json for a machine-readable answer)
options (or MODELFLEET_AGENT_<NAME> in the environment, or keys of a JSON --config file):
  --server URL  --data-dir DIR  --public-key BASE64[,BASE64]  --device-id ID
  --enrollment-token mfe_…  --device-token mfd_…  --tags a,b  --hardware-class NAME
  --install-mode delivered|stock  --on-install "COMMAND"  --clock-skew-seconds N
  --poll-seconds N  --backoff-base-seconds N  --backoff-cap-seconds N  --min-poll-seconds N  --request-timeout-seconds N  --log-level LEVEL
`;

export function exitCodeOf(outcome: CheckOutcome): number {
  switch (outcome.kind) {
    case 'up-to-date':
    case 'no-release':
      return EXIT.ok;
    case 'installed':
      return EXIT.installed;
    case 'rolled-back':
      return EXIT.rolledBack;
    case 'refused':
      return EXIT.refused;
    case 'failed':
      return EXIT.failed;
  }
}

/**
 * Test-only fault seams, set through the environment by the end-to-end tests (never in production):
 * MODELFLEET_AGENT_TEST_HANG_AT=<install step> stops the agent there (the test then kill -9s it);
 * MODELFLEET_AGENT_TEST_HANG_AFTER_BYTES=N stops a download once N bytes are on disk.
 */
function testSeams(env: Record<string, string | undefined>, log: ReturnType<typeof createLogger>): Partial<AgentDeps> {
  const seams: Partial<AgentDeps> = {};
  const hangAt = env.MODELFLEET_AGENT_TEST_HANG_AT;
  const never = () => new Promise<never>(() => {});
  if (hangAt !== undefined && (INSTALL_STEPS as readonly string[]).includes(hangAt))
    seams.fault = async (step: InstallStep) => {
      if (step !== hangAt) return;
      log.warn({ step }, 'test seam: hanging at install step');
      await never();
    };
  else if (hangAt === 'throw')
    seams.fault = (step: InstallStep) => {
      throw new InstallInterrupted(step);
    };
  const hangAfter = Number(env.MODELFLEET_AGENT_TEST_HANG_AFTER_BYTES ?? NaN);
  if (Number.isFinite(hangAfter)) {
    let hung = false;
    seams.onDownloadProgress = async (bytes: number) => {
      if (hung || bytes < hangAfter) return;
      hung = true;
      log.warn({ bytesOnDisk: bytes }, 'test seam: hanging mid-download');
      // Blocks the event loop: no more chunks are written, the process is then killed with SIGKILL.
      const until = Date.now() + 600_000;
      while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    };
  }
  return seams;
}

export async function runAgentCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...Object.fromEntries(OPTION_NAMES.map((name) => [name, { type: 'string' as const }])),
        config: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  const command = parsed.positionals[0];
  if (command === SMOKE_COMMAND && io.readStdin !== undefined) {
    io.stdout(`${JSON.stringify(await answerSmokeRequest(await io.readStdin()))}\n`);
    return EXIT.ok;
  }
  if (parsed.values.help === true || command === undefined || parsed.positionals.length > 1) {
    (parsed.values.help === true ? io.stdout : io.stderr)(USAGE);
    return parsed.values.help === true ? EXIT.ok : EXIT.usage;
  }
  const flags = Object.fromEntries(
    Object.entries(parsed.values).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  try {
    if (command === 'status') {
      const status = await readStatus(parseStatusConfig({ flags, env: io.env }).dataDir);
      io.stdout(parsed.values.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return EXIT.ok;
    }
    if (command !== 'run' && command !== 'check') {
      io.stderr(`unknown command "${command}"\n${USAGE}`);
      return EXIT.usage;
    }
    const config = parseAgentConfig({ flags, env: io.env });
    const log = createLogger(io.stderr, config.logLevel, { deviceId: config.deviceId });
    const agent = createAgent({
      config,
      log,
      ...(io.entry !== undefined ? { smoke: smokeTestInChildProcess(io.entry) } : {}),
      ...testSeams(io.env, log),
    });
    if (command === 'run') {
      await runDaemon({ agent, config, log, signal: io.signal });
      return EXIT.ok;
    }
    await agent.recover();
    const outcome = await agent.checkForUpdate(io.signal);
    io.stdout(parsed.values.json === true ? `${JSON.stringify(outcome)}\n` : `${describe(outcome)}\n`);
    return exitCodeOf(outcome);
  } catch (error) {
    if (AgentConfigInvalid.is(error)) {
      const problems = (error.details?.problems as string[] | undefined) ?? [error.message];
      io.stderr(`modelfleet-agent: configuration problems:\n${problems.map((p) => `  - ${p}\n`).join('')}`);
      return EXIT.usage;
    }
    io.stderr(`modelfleet-agent: ${isModelFleetError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
    if (AgentNotEnrolled.is(error)) return EXIT.notEnrolled;
    if (
      isModelFleetError(error) &&
      (error.code === 'MF_ERR_SERVER_UNAVAILABLE' || error.code === 'MF_ERR_SERVER_REJECTED')
    )
      return EXIT.server;
    return EXIT.failed;
  }
}

function describe(outcome: CheckOutcome): string {
  switch (outcome.kind) {
    case 'up-to-date':
      return outcome.release === null ? 'up to date (no model installed)' : `up to date (release ${outcome.release})`;
    case 'no-release':
      return 'no release published for this device yet';
    case 'installed':
      return `installed release ${outcome.release} (${outcome.sha256}), ${outcome.bytesFetched} bytes downloaded, smoke ${outcome.smokeLatencyMs ?? '?'} ms`;
    case 'rolled-back':
      return `release ${outcome.release} rolled back: ${outcome.reason}`;
    case 'refused':
      return `update refused: ${outcome.reason}`;
    case 'failed':
      return `update failed: ${outcome.reason}`;
  }
}
