import { CommanderError } from 'commander';
import { isModelFleetError } from '@modelfleet/errors';
import type { CliContext } from './context.js';
import { UsageInvalid } from './errors.js';
import { createProgram } from './program.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Prints `error MF_ERR_…: message` on stderr and says which exit code the failure deserves. */
export function reportFailure(error: unknown, context: CliContext): number {
  if (error instanceof CommanderError) {
    // --help and a bare `modelfleet` / `modelfleet models` print help; only the former is a success.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    if (error.code === 'commander.help') return EXIT_USAGE;
    const message = error.message.replace(/^error:\s*/, '');
    context.stderr.write(`error ${UsageInvalid.code}: ${message}\n(see modelfleet --help)\n`);
    return EXIT_USAGE;
  }
  if (isModelFleetError(error)) {
    context.stderr.write(`error ${error.code}: ${error.message}\n`);
    return UsageInvalid.is(error) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  context.stderr.write(`error MF_ERR_CLI_INTERNAL: ${message}\n`);
  return EXIT_FAILURE;
}

/** Runs one command line (without node and the script path) and returns its exit code. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const program = createProgram(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    return reportFailure(error, context);
  }
}
