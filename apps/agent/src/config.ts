/**
 * The agent's configuration: flags, then `MODELFLEET_AGENT_*` environment variables, then a JSON config file
 * (`--config` / `MODELFLEET_AGENT_CONFIG`), first one set wins. Parsed once at start-up; every problem is named
 * in one error (MF_ERR_AGENT_CONFIG_INVALID) so a technician fixes them in one go.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { publicKeyFromBase64 } from '@modelfleet/signing';
import { AgentConfigInvalid } from './errors.js';
import type { LogLevel } from './log.js';

export const INSTALL_MODES = ['delivered', 'stock'] as const;
export type InstallMode = (typeof INSTALL_MODES)[number];

export interface AgentConfig {
  /** Base URL of the ModelFleet server, no trailing slash. */
  serverUrl: string;
  enrollmentToken: string | undefined;
  deviceToken: string | undefined;
  deviceId: string;
  dataDir: string;
  /** The server's signing keys pinned at provisioning (raw 32-byte ed25519, base64) — never fetched at run time. */
  trustedKeys: KeyObject[];
  tags: string[];
  hardwareClass: string | undefined;
  installMode: InstallMode;
  /** Shell command run after a successful swap, with MODELFLEET_MODEL_PATH etc. in its environment. */
  onInstall: string | undefined;
  /**
   * Accepted clock difference when checking `expiresAt`. Raspberry-Pi-class boards have no RTC and boot with
   * a stale clock until NTP syncs; 5 minutes covers ordinary drift without re-opening the freeze attack for
   * longer than the server's own offer lifetime.
   */
  clockSkewSeconds: number;
  /** Error backoff: first delay and cap (full jitter in between). */
  backoffBaseSeconds: number;
  backoffCapSeconds: number;
  /** Smallest poll interval the agent accepts from the server (a misconfigured server cannot make it spin). */
  minPollSeconds: number;
  /** Poll interval until a verified offer suggests one (answers 204 and 304 carry none). */
  pollSeconds: number;
  requestTimeoutSeconds: number;
  logLevel: LogLevel;
}

/** What `status` needs: only the data folder. */
export interface StatusConfig {
  dataDir: string;
}

export interface ConfigSources {
  flags: Record<string, string | undefined>;
  env: Record<string, string | undefined>;
}

/** Option names: flag (kebab-case), env suffix (MODELFLEET_AGENT_<X>), config-file key (camelCase). */
const OPTIONS = {
  server: 'SERVER',
  'enrollment-token': 'ENROLLMENT_TOKEN',
  'device-token': 'DEVICE_TOKEN',
  'device-id': 'DEVICE_ID',
  'data-dir': 'DATA_DIR',
  'public-key': 'PUBLIC_KEY',
  tags: 'TAGS',
  'hardware-class': 'HARDWARE_CLASS',
  'install-mode': 'INSTALL_MODE',
  'on-install': 'ON_INSTALL',
  'clock-skew-seconds': 'CLOCK_SKEW_SECONDS',
  'backoff-base-seconds': 'BACKOFF_BASE_SECONDS',
  'backoff-cap-seconds': 'BACKOFF_CAP_SECONDS',
  'min-poll-seconds': 'MIN_POLL_SECONDS',
  'poll-seconds': 'POLL_SECONDS',
  'request-timeout-seconds': 'REQUEST_TIMEOUT_SECONDS',
  'log-level': 'LOG_LEVEL',
} as const;
export type OptionName = keyof typeof OPTIONS;
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${file}: not a JSON object`);
      return {};
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`config file ${file}: ${(error as Error).message}`);
    return {};
  }
}

/** Looks every option up in flags, env and file; arrays in the file are joined with commas. */
function lookup(sources: ConfigSources, problems: string[]): (name: OptionName) => string | undefined {
  const file = sources.flags.config ?? sources.env.MODELFLEET_AGENT_CONFIG;
  const fromFile = file !== undefined && file !== '' ? readConfigFile(file, problems) : {};
  const known = new Set<string>(OPTION_NAMES.map(camel));
  for (const key of Object.keys(fromFile)) if (!known.has(key)) problems.push(`config file: unknown key "${key}"`);
  return (name) => {
    const flag = sources.flags[name];
    if (flag !== undefined && flag !== '') return flag;
    const env = sources.env[`MODELFLEET_AGENT_${OPTIONS[name]}`];
    if (env !== undefined && env !== '') return env;
    const value = fromFile[camel(name)];
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value.map(String).join(',');
    return String(value);
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function seconds(
  get: (name: OptionName) => string | undefined,
  name: OptionName,
  fallback: number,
  min: number,
  problems: string[],
): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    problems.push(`--${name}: expected a number >= ${min}, got "${raw}"`);
    return fallback;
  }
  return value;
}

function dataDirOf(get: (name: OptionName) => string | undefined, problems: string[]): string {
  const dataDir = get('data-dir');
  if (dataDir === undefined) {
    problems.push('--data-dir (MODELFLEET_AGENT_DATA_DIR) is required');
    return '';
  }
  return path.resolve(dataDir);
}

function fail(problems: string[]): never {
  throw new AgentConfigInvalid(problems.join('; '), { details: { problems } });
}

export function parseStatusConfig(sources: ConfigSources): StatusConfig {
  const problems: string[] = [];
  const get = lookup(sources, problems);
  const dataDir = dataDirOf(get, problems);
  if (problems.length > 0) fail(problems);
  return { dataDir };
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TAG = /^[a-z0-9][a-z0-9._:=-]{0,63}$/;

export function parseAgentConfig(sources: ConfigSources): AgentConfig {
  const problems: string[] = [];
  const get = lookup(sources, problems);

  const server = get('server');
  let serverUrl = '';
  if (server === undefined) problems.push('--server (MODELFLEET_AGENT_SERVER) is required');
  else {
    try {
      const url = new URL(server);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        problems.push(`--server: not an http(s) URL: ${server}`);
      serverUrl = url.href.replace(/\/+$/, '');
    } catch {
      problems.push(`--server: not a URL: ${server}`);
    }
  }

  const dataDir = dataDirOf(get, problems);
  const deviceId = get('device-id') ?? hostname().replace(/[^A-Za-z0-9._:-]/g, '-');
  if (!DEVICE_ID.test(deviceId))
    problems.push(`--device-id: "${deviceId}" is not a device id (letters, digits, . _ : -)`);

  const trustedKeys: KeyObject[] = [];
  const keys = list(get('public-key'));
  if (keys.length === 0)
    problems.push(
      '--public-key (MODELFLEET_AGENT_PUBLIC_KEY) is required: the server key from /v1/keys, pinned at provisioning',
    );
  for (const key of keys) {
    try {
      trustedKeys.push(publicKeyFromBase64(key));
    } catch (error) {
      problems.push(`--public-key: ${(error as Error).message}`);
    }
  }

  const tags = list(get('tags'));
  for (const tag of tags)
    if (!TAG.test(tag)) problems.push(`--tags: "${tag}" is not a tag (lower-case letters, digits, . _ : = -)`);

  const installMode = get('install-mode') ?? 'delivered';
  if (!(INSTALL_MODES as readonly string[]).includes(installMode))
    problems.push(`--install-mode: expected one of ${INSTALL_MODES.join(', ')}, got "${installMode}"`);

  const logLevel = get('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push(`--log-level: unknown level "${logLevel}"`);

  const enrollmentToken = get('enrollment-token');
  if (enrollmentToken !== undefined && !enrollmentToken.startsWith('mfe_'))
    problems.push('--enrollment-token: expected an mfe_… token');
  const deviceToken = get('device-token');
  if (deviceToken !== undefined && !deviceToken.startsWith('mfd_'))
    problems.push('--device-token: expected an mfd_… token');

  const backoffBaseSeconds = seconds(get, 'backoff-base-seconds', 2, 0.01, problems);
  const backoffCapSeconds = seconds(get, 'backoff-cap-seconds', 300, 0.01, problems);
  if (backoffCapSeconds < backoffBaseSeconds)
    problems.push('--backoff-cap-seconds must not be below --backoff-base-seconds');

  const config: AgentConfig = {
    serverUrl,
    enrollmentToken,
    deviceToken,
    deviceId,
    dataDir,
    trustedKeys,
    tags,
    hardwareClass: get('hardware-class'),
    installMode: installMode as InstallMode,
    onInstall: get('on-install'),
    clockSkewSeconds: seconds(get, 'clock-skew-seconds', 300, 0, problems),
    backoffBaseSeconds,
    backoffCapSeconds,
    minPollSeconds: seconds(get, 'min-poll-seconds', 1, 0.01, problems),
    pollSeconds: seconds(get, 'poll-seconds', 60, 0.01, problems),
    requestTimeoutSeconds: seconds(get, 'request-timeout-seconds', 30, 0.1, problems),
    logLevel: logLevel as LogLevel,
  };
  if (problems.length > 0) fail(problems);
  return config;
}
