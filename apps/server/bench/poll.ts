/**
 * bench:poll — polls per second on the 304 path with many distinct device tokens, against a bare Fastify
 * route on the same machine in the same run (the ceiling). Three processes: the server (embedded default:
 * PGlite, a fresh data folder seeded with one release and N enrolled devices), the load generator
 * (autocannon, bench/poll-load.ts: GET /v1/device/update?current=<target sha256>, tokens round-robin),
 * and then the bare route (bench/bare-server.ts) under the same load. Loopback only, bounded in time.
 * Prints a table and writes bench-results/poll.md.
 *
 *   npm run bench:poll [-- --devices 10000 --seconds 10 --warmup 3 --connections 32]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, databaseConfigFromSettings, migrate } from '@modelfleet/db';
import {
  freePort,
  seedPollFleet,
  startNode,
  statusText,
  stopChild,
  waitUntilUp,
  type LoadResult,
} from './fleet-support.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const deviceCount = Number(args.get('devices') ?? 10_000);
const seconds = Number(args.get('seconds') ?? 10);
const warmupSeconds = Number(args.get('warmup') ?? 3);
const connections = Number(args.get('connections') ?? 32);
const serverLogLevel = args.get('log-level') ?? 'warn';

const appRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-bench-poll-'));
const children: ChildProcess[] = [];

/** A fresh embedded (PGlite) database in the data folder, migrated and seeded; closed again before the run. */
async function seed(): Promise<{ tokens: string[]; targetSha256: string }> {
  const db = await createDatabase(databaseConfigFromSettings({ databaseUrl: undefined, dataDir }));
  try {
    await migrate(db);
    return await seedPollFleet(db, dataDir, deviceCount);
  } finally {
    await db.close();
  }
}

function start(command: string[], env: Record<string, string> = {}): ChildProcess {
  const child = startNode(appRoot, command, env);
  children.push(child);
  return child;
}

async function load(url: string, tokensFile: string, runSeconds: number): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/poll-load.ts', url, tokensFile, String(runSeconds), String(connections)],
    {
      cwd: appRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
}

try {
  const seedStarted = Date.now();
  const { tokens, targetSha256 } = await seed();
  const tokensFile = path.join(dataDir, 'device-tokens.txt');
  await fs.writeFile(tokensFile, `${tokens.join('\n')}\n`);
  process.stderr.write(`seeded ${deviceCount} devices in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s\n`);
  const query = `/v1/device/update?current=${targetSha256}`;

  // The server on the embedded default, seeded above.
  const serverPort = await freePort();
  const server = start(['--import', 'tsx', 'src/server.ts'], {
    PORT: String(serverPort),
    MODELFLEET_DATA_DIR: dataDir,
    MODELFLEET_ADMIN_KEY: `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`,
    LOG_LEVEL: serverLogLevel,
    DATABASE_URL: '',
    REDIS_URL: '',
  });
  const serverBase = `http://127.0.0.1:${serverPort}`;
  await waitUntilUp(server, serverBase);
  // The path under test answers as it should: 304 for the current artifact, 200 without it.
  const check304 = await fetch(`${serverBase}${query}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const check200 = await fetch(`${serverBase}/v1/device/update`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  if (check304.status !== 304 || check200.status !== 200)
    throw new Error(`poll check: ${check304.status} / ${check200.status}`);
  const cold = await load(`${serverBase}${query}`, tokensFile, warmupSeconds);
  const modelfleet = await load(`${serverBase}${query}`, tokensFile, seconds);
  await stopChild(server);

  const barePort = await freePort();
  const bare = start(['--import', 'tsx', 'bench/bare-server.ts', String(barePort)]);
  const bareBase = `http://127.0.0.1:${barePort}`;
  await waitUntilUp(bare, bareBase);
  await load(`${bareBase}${query}`, tokensFile, warmupSeconds);
  const ceiling = await load(`${bareBase}${query}`, tokensFile, seconds);
  await stopChild(bare);

  const rows: [string, LoadResult][] = [
    [`ModelFleet, warm-up (${warmupSeconds} s)`, cold],
    ['ModelFleet GET /v1/device/update (304)', modelfleet],
    ['bare Fastify route (304, nothing else)', ceiling],
  ];
  const lines = [
    `# bench:poll`,
    '',
    `${deviceCount} device tokens round-robin, ${connections} connections, ${seconds} s per measured run, loopback; ` +
      `server on the embedded default (PGlite), LOG_LEVEL=${serverLogLevel}; load generator in its own process; ` +
      `${os.availableParallelism()} cores shared by server, load generator and anything else running (${os.cpus()[0]?.model ?? 'cpu'}).`,
    '',
    '| run | polls/s | median ms | p99 ms | max ms | statuses | errors |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      ([name, r]) =>
        `| ${name} | ${Math.round(r.perSecond)} | ${r.medianMs} | ${r.p99Ms} | ${r.maxMs} | ${statusText(r.statuses)} | ${r.errors + r.timeouts} |`,
    ),
    '',
    `ModelFleet / bare: ${(modelfleet.perSecond / ceiling.perSecond).toFixed(2)}x polls/s; ` +
      `p99 ${(modelfleet.p99Ms / Math.max(ceiling.p99Ms, 0.001)).toFixed(2)}x.`,
    `Distinct tokens seen per second: ${Math.min(deviceCount, Math.round(modelfleet.perSecond))} (each token polls every ` +
      `${(deviceCount / modelfleet.perSecond).toFixed(2)} s in this run; a real fleet of ${deviceCount} polling every 60 s makes ` +
      `${Math.round(deviceCount / 60)} polls/s).`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = path.join(appRoot, '..', '..', 'bench-results');
  await fs.mkdir(out, { recursive: true });
  await fs.writeFile(path.join(out, 'poll.md'), `${lines.join('\n')}\n`);
  for (const [name, r] of rows) {
    const unexpected = Object.keys(r.statuses).filter((status) => status !== '304');
    if (unexpected.length > 0) throw new Error(`${name}: unexpected statuses ${statusText(r.statuses)}`);
  }
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await fs.rm(dataDir, { recursive: true, force: true });
}
