import path from 'node:path';
import { parseArgs } from 'node:util';
import { runTour } from './tour.js';

/* The terminal program behind `npm run demo`. */
const { values } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    agents: { type: 'string', default: '3' },
    variants: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'npm run demo [-- --exit] [--port 3000] [--data-dir ./.modelfleet-demo] [--agents 3] [--variants theta4,int8-per-channel]\n',
  );
  process.exit(0);
}

const say = (text: string) => process.stdout.write(`${text}\n`);
const dataDir = path.resolve(process.env.INIT_CWD ?? process.cwd(), values['data-dir'] ?? '.modelfleet-demo');

const tour = await runTour({
  dataDir,
  port: Number(values.port),
  host: values.host,
  agents: Number(values.agents),
  variants: values.variants?.split(',').map((variant) => variant.trim()),
  exit: values.exit,
  jobTimeoutMs: 20 * 60_000,
  say,
}).catch((error: unknown) => {
  process.stderr.write(`\nThe demo stopped: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write(`Logs of the server and the agents: ${path.join(dataDir, 'logs')}\n`);
  process.exit(1);
});

if (values.exit) {
  await tour.stop();
  say('Stopped (--exit).');
  process.exit(0);
}

say('');
say(`Dashboard:  ${tour.url}/dashboard/`);
say(`Admin key:  ${tour.adminKey}   (paste it into the dashboard; it is also the CLI's --key)`);
say(`CLI:        npx modelfleet login --server ${tour.url} --key ${tour.adminKey}`);
say(`Logs:       ${path.join(dataDir, 'logs')}`);
say('The server and the agents keep running; Ctrl-C stops them.');

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  say('\nStopping the agents and the server …');
  void tour.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
