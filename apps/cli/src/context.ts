/** A stream the CLI writes to; `isTTY` decides between redrawn progress bars and plain lines. */
export interface CliOutput {
  write(text: string): void;
  readonly isTTY: boolean;
}

/**
 * Everything the commands touch of the outside world, handed in so tests run the real program against
 * their own streams, environment, home folder and server without touching the process.
 */
export interface CliContext {
  stdout: CliOutput;
  stderr: CliOutput;
  env: NodeJS.ProcessEnv;
  homeDir: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** Time between polls of a version under `upload --wait`; one second by default. */
  pollIntervalMs?: number;
}
