import { InvalidArgumentError, type Command } from 'commander';
import { createApiClient, type ApiClient } from '../client.js';
import { configFilePath, readStoredConfig, resolveConnection, type Connection } from '../config.js';
import type { CliContext } from '../context.js';

/** Options every command accepts (declared on the program, usable before or after the command name). */
export interface GlobalOptions {
  server?: string;
  key?: string;
  json?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export async function resolveCommandConnection(context: CliContext, command: Command): Promise<Connection> {
  const flags = globalOptions(command);
  const stored = await readStoredConfig(configFilePath(context.env, context.homeDir));
  return resolveConnection({ server: flags.server, key: flags.key }, context.env, stored);
}

/** The API client for this invocation: flags, then MODELFLEET_SERVER / MODELFLEET_KEY, then the config file. */
export async function connect(context: CliContext, command: Command): Promise<ApiClient> {
  const connection = await resolveCommandConnection(context, command);
  return createApiClient({
    server: connection.server,
    key: connection.key,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
}

/** `--json`: the API's JSON on stdout and nothing else, so scripts can pipe it to jq. */
export function printJson(context: CliContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function wantsJson(command: Command): boolean {
  return globalOptions(command).json === true;
}

export function parseNumberOption(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('expected a number.');
  return number;
}

/** A number or a fraction such as 1/127.5 (how input scales are usually written). */
export function parseRatioOption(value: string): number {
  const match = /^\s*([^/]+)\/([^/]+)\s*$/.exec(value);
  if (match === null) return parseNumberOption(value);
  const ratio = parseNumberOption(match[1] ?? '') / parseNumberOption(match[2] ?? '');
  if (!Number.isFinite(ratio)) throw new InvalidArgumentError('expected a number or a fraction such as 1/127.5.');
  return ratio;
}

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return number;
}

/** "a,b , c" -> ["a", "b", "c"]; empty items are refused. */
export function parseList(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === ''))
    throw new InvalidArgumentError('expected a comma-separated list without empty items.');
  return items;
}
