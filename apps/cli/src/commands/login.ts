import type { Command } from 'commander';
import { createApiClient } from '../client.js';
import { configFilePath, readStoredConfig, resolveConnection, writeStoredConfig } from '../config.js';
import type { CliContext } from '../context.js';
import { ConfigInvalid } from '../errors.js';
import { connect, globalOptions, printJson, wantsJson } from './shared.js';

export function registerLoginCommands(program: Command, context: CliContext): void {
  program
    .command('login')
    .description(
      'check --server and --key against the server (GET /v1/whoami), then keep them in the config file (mode 0600)',
    )
    .addHelpText(
      'after',
      '\nThe file is $MODELFLEET_CONFIG or ~/.config/modelfleet/config.json. MODELFLEET_SERVER / MODELFLEET_KEY\noverride it, and --server / --key override both, on every command.',
    )
    .action(async (_options: unknown, command: Command) => {
      const path = configFilePath(context.env, context.homeDir);
      // A broken file must not lock the person out: login is how it gets rewritten.
      const stored = await readStoredConfig(path).catch((error: unknown) => {
        if (ConfigInvalid.is(error)) return undefined;
        throw error;
      });
      const flags = globalOptions(command);
      const connection = resolveConnection({ server: flags.server, key: flags.key }, context.env, stored);
      const client = createApiClient({
        server: connection.server,
        key: connection.key,
        ...(context.fetch ? { fetch: context.fetch } : {}),
      });
      const who = await client.whoami();
      await writeStoredConfig(path, { server: connection.server, key: connection.key });
      if (wantsJson(command)) return printJson(context, who);
      context.stdout.write(
        `logged in to ${connection.server} with key ${who.prefix}… (scopes: ${who.scopes.join(', ')})\nsaved to ${path}\n`,
      );
    });

  program
    .command('whoami')
    .description('show which server and API key the next command would use, as the server sees them')
    .action(async (_options: unknown, command: Command) => {
      const client = await connect(context, command);
      const who = await client.whoami();
      if (wantsJson(command)) return printJson(context, who);
      context.stdout.write(`${client.server}: key ${who.prefix}… (scopes: ${who.scopes.join(', ')})\n`);
    });
}
