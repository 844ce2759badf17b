import type { Command } from 'commander';
import { ModelFleetError } from '@modelfleet/errors';
import type { ModelVersion } from '@modelfleet/contracts';
import type { CliContext } from '../context.js';
import { formatBytes } from '../render/format.js';
import { renderVersionReport } from '../render/candidates.js';
import { createJobProgress, createUploadProgress } from '../render/progress.js';
import { resolveVersionUpload } from '../upload-source.js';
import { waitForVersion } from '../wait.js';
import { connect, parsePositiveInteger, printJson, wantsJson } from './shared.js';

interface UploadOptions {
  line: string;
  wait?: boolean;
  timeout: number;
}

/** A failed version becomes the process's error: its own code and message, exit code 1. */
export function versionFailure(version: ModelVersion): ModelFleetError {
  return new ModelFleetError(
    version.error?.code ?? 'MF_ERR_VERSION_FAILED',
    422,
    version.error?.message ?? 'the optimize job failed without a message',
  );
}

export function registerUploadCommand(program: Command, context: CliContext): void {
  program
    .command('upload <path>')
    .description('upload a model version: a folder with model.json and its weight shards, or a .zip / .tar.gz of them')
    .requiredOption('--line <name>', 'model line')
    .option('--wait', 'follow the optimize job until it is ready or failed, then print the candidate table')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', parsePositiveInteger, 3600)
    .action(async (path: string, options: UploadOptions, command: Command) => {
      // Every file is checked (and measured) before the first byte goes out.
      const source = await resolveVersionUpload(path);
      const client = await connect(context, command);
      const json = wantsJson(command);
      const talk = !json || context.stderr.isTTY;
      const nowOption = context.now ? { now: context.now } : {};

      if (talk) {
        const what =
          source.kind === 'directory' ? `model.json + ${source.parts.length - 1} weight shard(s)` : 'archive';
        context.stderr.write(
          `uploading ${what} from ${path} (${formatBytes(source.fileBytes)}) to ${client.server}, line ${options.line}\n`,
        );
      }
      const uploadProgress = talk ? createUploadProgress(context.stderr, nowOption) : undefined;
      let accepted;
      try {
        accepted = await client.uploadVersion(
          options.line,
          source.parts,
          uploadProgress ? { onProgress: uploadProgress.update } : {},
        );
      } finally {
        uploadProgress?.finish();
      }

      if (options.wait !== true) {
        if (json) return printJson(context, accepted);
        context.stdout.write(
          `version ${accepted.id} ${accepted.status}\nfollow it with: modelfleet candidates ${accepted.id} --line ${options.line}\n`,
        );
        return;
      }

      if (talk) context.stderr.write(`version ${accepted.id} accepted; following the optimize job\n`);
      const jobProgress = talk ? createJobProgress(context.stderr, nowOption) : undefined;
      let version: ModelVersion;
      try {
        version = await waitForVersion(client, options.line, accepted.id, {
          intervalMs: context.pollIntervalMs ?? 1000,
          timeoutMs: options.timeout * 1000,
          ...nowOption,
          ...(jobProgress ? { onUpdate: jobProgress.update } : {}),
        });
      } finally {
        jobProgress?.finish();
      }

      if (json) printJson(context, version);
      else context.stdout.write(`version ${version.id}: ${version.status}\n\n${renderVersionReport(version)}`);
      if (version.status === 'failed') throw versionFailure(version);
    });
}
