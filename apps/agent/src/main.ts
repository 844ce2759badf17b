import { runAgentCli } from './cli/run.js';

// The process entry (bin/modelfleet-agent.js runs this file through tsx); everything else is import-safe.
const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => controller.abort());
process.exitCode = await runAgentCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  signal: controller.signal,
  entry: process.argv[1],
  readStdin: async () => {
    let input = '';
    for await (const chunk of process.stdin) input += String(chunk);
    return input;
  },
});
