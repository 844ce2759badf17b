import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderVersionReport } from '../render/candidates.js';
import { renderJobProgress } from '../render/progress.js';
import { renderVersionList } from '../render/resources.js';
import { connect, printJson, wantsJson } from './shared.js';

type TableFormat = 'table' | 'markdown' | 'csv';

function parseFormat(value: string): TableFormat {
  if (value !== 'table' && value !== 'markdown' && value !== 'csv')
    throw new InvalidArgumentError('expected table, markdown or csv.');
  return value;
}

export function registerCandidateCommands(program: Command, context: CliContext): void {
  program
    .command('candidates <version>')
    .description("a version's candidate table, the winner and why")
    .requiredOption('--line <name>', 'model line')
    .option(
      '--format <format>',
      "table (default), or the server's markdown or csv text",
      parseFormat,
      'table' as TableFormat,
    )
    .action(async (versionId: string, options: { line: string; format: TableFormat }, command: Command) => {
      const client = await connect(context, command);
      if (options.format !== 'table' && !wantsJson(command)) {
        const text = await client.getCandidateTable(options.line, versionId, options.format);
        context.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
        return;
      }
      const version = await client.getVersion(options.line, versionId);
      if (wantsJson(command)) return printJson(context, version);
      const header =
        version.status === 'ready'
          ? `version ${version.id}: ready`
          : `version ${version.id}: ${renderJobProgress(version)}`;
      const failure = version.error === null ? '' : `error ${version.error.code}: ${version.error.message}\n`;
      context.stdout.write(`${header}\n${failure}\n${renderVersionReport(version)}`);
    });

  program
    .command('versions')
    .description("a line's uploaded versions and their status")
    .requiredOption('--line <name>', 'model line')
    .action(async (options: { line: string }, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listVersions(options.line);
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderVersionList(list.items));
    });
}
