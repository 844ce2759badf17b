import { InvalidArgumentError, type Command } from 'commander';
import type { CreateApiKeyBody } from '@modelfleet/contracts';
import type { CliContext } from '../context.js';
import { renderApiKeyList } from '../render/resources.js';
import { connect, parseList, printJson, wantsJson } from './shared.js';

const SCOPES = ['read', 'upload', 'publish', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

export function parseScopes(value: string): Scope[] {
  const scopes = parseList(value);
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown scope(s) ${unknown.join(', ')}; known: ${SCOPES.join(', ')}.`);
  return [...new Set(scopes)] as Scope[];
}

export function registerKeyCommands(program: Command, context: CliContext): void {
  const keys = program.command('keys').description("people's API keys (admin scope)");

  keys
    .command('create')
    .description('create an API key; the key is shown once')
    .requiredOption('--name <name>', 'who or what the key is for')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`, parseScopes)
    .action(async (options: { name: string; scopes: Scope[] }, command: Command) => {
      const body: CreateApiKeyBody = { name: options.name, scopes: options.scopes };
      const client = await connect(context, command);
      const created = await client.createApiKey(body);
      if (wantsJson(command)) return printJson(context, created);
      context.stdout.write(`${created.key}\n`);
      context.stderr.write(
        `key ${created.prefix} for ${created.name} (scopes: ${created.scopes.join(', ')}); it is not shown again\n`,
      );
    });

  keys
    .command('list')
    .description('list API keys (prefixes only)')
    .action(async (_options: unknown, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listApiKeys();
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderApiKeyList(list.items));
    });
}
