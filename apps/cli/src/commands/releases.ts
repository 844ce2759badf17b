import type { Command } from 'commander';
import type { PublishBody } from '@modelfleet/contracts';
import type { CliContext } from '../context.js';
import { UsageInvalid } from '../errors.js';
import { renderRelease, renderReleaseList } from '../render/resources.js';
import { connect, printJson, wantsJson } from './shared.js';

interface PublishOptions {
  line: string;
  version?: string;
  candidate?: string;
  channel?: string;
}

/** Exactly one of --version (its selected winner) or --candidate (an override). */
export function publishBody(options: PublishOptions): PublishBody {
  if ((options.version === undefined) === (options.candidate === undefined)) {
    throw new UsageInvalid(
      'publish needs exactly one of --version V (its winner) or --candidate C (a chosen candidate)',
    );
  }
  const body: PublishBody =
    options.version !== undefined ? { version: options.version } : { candidateId: options.candidate as string };
  if (options.channel !== undefined) body.channel = options.channel;
  return body;
}

export function registerReleaseCommands(program: Command, context: CliContext): void {
  program
    .command('publish')
    .description("publish a signed release: a version's winner, or any candidate")
    .requiredOption('--line <name>', 'model line')
    .option('--version <id>', "publish this version's selected winner")
    .option('--candidate <id>', 'publish this candidate (overrides the selection)')
    .option('--channel <name>', "channel (default: the line's policy channel)")
    .action(async (options: PublishOptions, command: Command) => {
      const body = publishBody(options);
      const client = await connect(context, command);
      const release = await client.publish(options.line, body);
      if (wantsJson(command)) return printJson(context, release);
      context.stdout.write(`published\n${renderRelease(release)}`);
    });

  program
    .command('releases')
    .description("a line's releases, newest first as the server lists them")
    .requiredOption('--line <name>', 'model line')
    .option('--channel <name>', 'only this channel')
    .action(async (options: { line: string; channel?: string }, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listReleases(options.line, { channel: options.channel });
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderReleaseList(list.items));
    });
}
