import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { registerCandidateCommands } from './commands/candidates.js';
import { registerDatasetCommands } from './commands/datasets.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLoginCommands } from './commands/login.js';
import { registerModelCommands } from './commands/models.js';
import { registerReleaseCommands } from './commands/releases.js';
import { registerDeviceCommands, registerRolloutCommands } from './commands/rollouts.js';
import { registerUploadCommand } from './commands/upload.js';

/**
 * The `modelfleet` program. Usage errors throw (exitOverride) instead of exiting, so `runCli` decides
 * exit codes and the message format; help goes to the context's streams.
 */
export function createProgram(context: CliContext): Command {
  const program = new Command('modelfleet')
    .description('ModelFleet: upload models, follow their optimization, publish signed releases')
    .addOption(new Option('--server <url>', 'server URL (overrides MODELFLEET_SERVER and the config file)'))
    .addOption(new Option('--key <key>', 'API key mfk_… (overrides MODELFLEET_KEY and the config file)'))
    .option('--json', 'print the raw API JSON on stdout and nothing else')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      // runCli prints usage errors in the CLI's one error format.
      outputError: () => undefined,
    })
    .exitOverride()
    .showSuggestionAfterError(true);

  registerLoginCommands(program, context);
  registerModelCommands(program, context);
  registerDatasetCommands(program, context);
  registerUploadCommand(program, context);
  registerCandidateCommands(program, context);
  registerReleaseCommands(program, context);
  registerRolloutCommands(program, context);
  registerDeviceCommands(program, context);
  registerKeyCommands(program, context);
  return program;
}
