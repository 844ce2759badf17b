import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigInvalid, ConnectionMissing, UsageInvalid } from './errors.js';

/** What `modelfleet login` keeps: where the server is and the person's API key. */
export interface StoredConfig {
  server: string;
  key: string;
}

export interface Connection {
  server: string;
  key: string;
  /** Where each value came from, for `login` output and error messages. */
  from: { server: ConnectionSource; key: ConnectionSource };
}

export type ConnectionSource = 'flag' | 'env' | 'file';

export interface ConnectionFlags {
  server?: string | undefined;
  key?: string | undefined;
}

/** `$MODELFLEET_CONFIG`, else `~/.config/modelfleet/config.json` (XDG_CONFIG_HOME respected). */
export function configFilePath(env: NodeJS.ProcessEnv, homeDir: string): string {
  if (env.MODELFLEET_CONFIG !== undefined && env.MODELFLEET_CONFIG !== '') return env.MODELFLEET_CONFIG;
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homeDir, '.config');
  return join(base, 'modelfleet', 'config.json');
}

/** The stored config, `undefined` when there is no file yet; a file that is not ours fails loudly. */
export async function readStoredConfig(path: string): Promise<Partial<StoredConfig> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new ConfigInvalid(path, (error as Error).message, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigInvalid(path, 'not JSON', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigInvalid(path, 'not a JSON object');
  const { server, key } = parsed as Record<string, unknown>;
  const config: Partial<StoredConfig> = {};
  if (typeof server === 'string') config.server = server;
  if (typeof key === 'string') config.key = key;
  return config;
}

/**
 * Writes the config readable by its owner only (0600, folder 0700): it holds a credential. The file is
 * written beside its final name and renamed, so a crash never leaves half a file.
 */
export async function writeStoredConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ server: config.server, key: config.key }, null, 2)}\n`, {
    mode: 0o600,
  });
  // writeFile's mode applies only when it creates the file; a leftover temporary may have other bits.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

function pick(
  flag: string | undefined,
  env: string | undefined,
  file: string | undefined,
): [string, ConnectionSource] | undefined {
  if (flag !== undefined && flag !== '') return [flag, 'flag'];
  if (env !== undefined && env !== '') return [env, 'env'];
  if (file !== undefined && file !== '') return [file, 'file'];
  return undefined;
}

/** Flags beat the environment (MODELFLEET_SERVER / MODELFLEET_KEY), which beats the file; each value on its own. */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  stored: Partial<StoredConfig> | undefined,
): Connection {
  const server = pick(flags.server, env.MODELFLEET_SERVER, stored?.server);
  const key = pick(flags.key, env.MODELFLEET_KEY, stored?.key);
  if (server === undefined && key === undefined) throw new ConnectionMissing('server and API key');
  if (server === undefined) throw new ConnectionMissing('server');
  if (key === undefined) throw new ConnectionMissing('API key');
  return { server: normaliseServerUrl(server[0], server[1]), key: key[0], from: { server: server[1], key: key[1] } };
}

/** An http(s) base URL without a trailing slash; anything else is refused with where it came from. */
export function normaliseServerUrl(value: string, from: ConnectionSource = 'flag'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageInvalid(
      `server ${JSON.stringify(value)} (from ${from}) is not a URL; expected e.g. http://127.0.0.1:3000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageInvalid(`server ${JSON.stringify(value)} (from ${from}) must be an http:// or https:// URL`);
  }
  return value.replace(/\/+$/, '');
}
