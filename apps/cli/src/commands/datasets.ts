import { InvalidArgumentError, type Command } from 'commander';
import { DATASET_ROLES, type DatasetRole } from '@modelfleet/contracts';
import type { CliContext } from '../context.js';
import { formatBytes } from '../render/format.js';
import { createUploadProgress } from '../render/progress.js';
import { renderDataset, renderDatasetList } from '../render/resources.js';
import { resolveDatasetFile } from '../upload-source.js';
import { connect, printJson, wantsJson } from './shared.js';

export function parseRole(value: string): DatasetRole {
  if (!(DATASET_ROLES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${DATASET_ROLES.join(', ')}.`);
  return value as DatasetRole;
}

export function registerDatasetCommands(program: Command, context: CliContext): void {
  const datasets = program.command('datasets').description("a model line's test, calibration and train sets");

  datasets
    .command('add <file>')
    .description('upload a .zip / .tar.gz of class folders, or a .mfds dataset file')
    .requiredOption('--line <name>', 'model line')
    .requiredOption('--role <role>', `what the set is for: ${DATASET_ROLES.join(' | ')}`, parseRole)
    .option('--name <name>', 'a name to tell sets apart')
    .action(async (file: string, options: { line: string; role: DatasetRole; name?: string }, command: Command) => {
      const part = await resolveDatasetFile(file);
      const client = await connect(context, command);
      const json = wantsJson(command);
      if (!json && 'size' in part.source)
        context.stderr.write(`uploading ${file} (${formatBytes(part.source.size)}) to ${client.server}\n`);
      const progress =
        json && !context.stderr.isTTY
          ? undefined
          : createUploadProgress(context.stderr, context.now ? { now: context.now } : {});
      let dataset;
      try {
        dataset = await client.addDataset(
          options.line,
          { role: options.role, name: options.name, file: part },
          progress ? { onProgress: progress.update } : {},
        );
      } finally {
        progress?.finish();
      }
      if (json) return printJson(context, dataset);
      context.stdout.write(`added ${dataset.role} set to ${options.line}\n${renderDataset(dataset)}`);
    });

  datasets
    .command('list')
    .description("list a line's datasets")
    .requiredOption('--line <name>', 'model line')
    .action(async (options: { line: string }, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listDatasets(options.line);
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderDatasetList(list.items));
    });

  datasets
    .command('rm <id>')
    .description('delete a dataset')
    .requiredOption('--line <name>', 'model line')
    .action(async (id: string, options: { line: string }, command: Command) => {
      const client = await connect(context, command);
      await client.deleteDataset(options.line, id);
      // The API answers 204 without a body, so --json prints nothing: the exit code is the answer.
      if (wantsJson(command)) return;
      context.stdout.write(`deleted dataset ${id} of ${options.line}\n`);
    });
}
