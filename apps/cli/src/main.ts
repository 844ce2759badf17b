import { homedir } from 'node:os';
import { runCli } from './run.js';

// The process entry (bin/modelfleet.js runs this file through tsx); everything else is import-safe.
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: { write: (text) => void process.stdout.write(text), isTTY: process.stdout.isTTY === true },
  stderr: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true },
  env: process.env,
  homeDir: homedir(),
});
