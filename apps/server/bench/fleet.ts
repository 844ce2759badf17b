/**
 * bench:fleet — the fleet under load, on PostgreSQL (a fresh schema on the machine's server, 127.0.0.1:5432
 * or TEST_DATABASE_URL) with the embedded in-process job queue:
 *
 *  1. 10,000 device tokens polling one server process: polls/s and p99 on the 304 path, then the same load
 *     against a bare Fastify route on the same machine in the same run (the ceiling). The load comes from a
 *     separate process (autocannon, bench/poll-load.ts).
 *  2. Rollouts to 1,000 simulated agents (bench/fleet-agents.ts: a few processes, each running many agents
 *     with the agent's own poll/verify/download/install code; the smoke test that loads the model in TF.js
 *     is replaced by a pass, which this benchmark says in its table): the first release as full artifacts,
 *     then the next one as deltas. Time to converge, bytes served, server CPU, lost reports, wrong installs.
 *
 * Prints a table and writes bench-results/fleet.md. Bounded to a few minutes on 2 cores.
 *
 *   npm run bench:fleet [-- --devices 10000 --seconds 10 --warmup 3 --connections 32 --agents 1000 --cpu-profile DIR]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@modelfleet/db/testing';
import {
  runLoad,
  seedPollFleet,
  startNode,
  statusText,
  stopChild,
  freePort,
  waitUntilUp,
  type LoadResult,
} from './fleet-support.js';
import { runRollouts, type RolloutRow } from './fleet-rollout.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const deviceCount = Number(args.get('devices') ?? 10_000);
const seconds = Number(args.get('seconds') ?? 10);
const warmupSeconds = Number(args.get('warmup') ?? 3);
const connections = Number(args.get('connections') ?? 32);
const agentCount = Number(args.get('agents') ?? 1_000);
const serverLogLevel = args.get('log-level') ?? 'warn';
/** `--cpu-profile DIR`: the server process writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
const cpuProfileDir = args.get('cpu-profile');

const appRoot = fileURLToPath(new URL('..', import.meta.url));
const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-bench-fleet-'));
const database = await createTestDatabase('postgres');
const databaseUrl = database.databaseUrl!;

const started = Date.now();
const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
const dataDir = path.join(workDir, 'server');
const cleanups: (() => Promise<void>)[] = [];
let failed = false;
try {
  const seedStarted = Date.now();
  const { tokens, targetSha256 } = await seedPollFleet(database.db, dataDir, deviceCount);
  const tokensFile = path.join(workDir, 'device-tokens.txt');
  await fs.writeFile(tokensFile, `${tokens.join('\n')}\n`);
  process.stderr.write(`seeded ${deviceCount} devices in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s\n`);
  const query = `/v1/device/update?current=${targetSha256}`;

  const serverPort = await freePort();
  const out = path.join(appRoot, '..', '..', 'bench-results');
  await fs.mkdir(out, { recursive: true });
  const serverLog = await fs.open(path.join(out, 'fleet-server.log'), 'w');
  cleanups.push(() => serverLog.close());
  const server = startNode(
    appRoot,
    [
      ...(cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfileDir)}`]),
      '--import',
      'tsx',
      'src/server.ts',
    ],
    {
      PORT: String(serverPort),
      MODELFLEET_DATA_DIR: dataDir,
      MODELFLEET_ADMIN_KEY: adminKey,
      LOG_LEVEL: serverLogLevel,
      DATABASE_URL: databaseUrl,
      REDIS_URL: '',
      DEVICE_POLL_AFTER_SECONDS: '1',
      DEVICE_RELEASE_CACHE_TTL_MS: '500',
      // Every simulated device (and the load generator) comes from 127.0.0.1: per-address limits would count them as one.
      RATE_LIMIT_DEVICE_PER_MINUTE: '0',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '0',
    },
    serverLog.fd,
  );
  cleanups.push(() => stopChild(server));
  const serverBase = `http://127.0.0.1:${serverPort}`;
  await waitUntilUp(server, serverBase);
  const check304 = await fetch(`${serverBase}${query}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  const check200 = await fetch(`${serverBase}/v1/device/update`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  if (check304.status !== 304 || check200.status !== 200)
    throw new Error(`poll check: ${check304.status} / ${check200.status}`);
  const load = (url: string, runSeconds: number) =>
    runLoad(appRoot, url, tokensFile, runSeconds, connections, server.pid);
  await load(`${serverBase}${query}`, warmupSeconds);
  const modelfleet = await load(`${serverBase}${query}`, seconds);

  // Rollouts on the same server process, to agents of another line.
  const rollouts: RolloutRow[] =
    agentCount > 0
      ? await runRollouts({ appRoot, workDir, serverBase, serverPid: server.pid!, adminKey, agentCount })
      : [];
  await stopChild(server);

  const barePort = await freePort();
  const bare = startNode(appRoot, ['--import', 'tsx', 'bench/bare-server.ts', String(barePort)]);
  cleanups.push(() => stopChild(bare));
  const bareBase = `http://127.0.0.1:${barePort}`;
  await waitUntilUp(bare, bareBase);
  await runLoad(appRoot, `${bareBase}${query}`, tokensFile, warmupSeconds, connections, bare.pid);
  const ceiling = await runLoad(appRoot, `${bareBase}${query}`, tokensFile, seconds, connections, bare.pid);
  await stopChild(bare);

  const pollRows: [string, LoadResult][] = [
    ['ModelFleet GET /v1/device/update (304)', modelfleet],
    ['bare Fastify route (304, nothing else)', ceiling],
  ];
  const cpu = (r: LoadResult) => (r.serverCpuSeconds === undefined ? '–' : `${r.serverCpuSeconds.toFixed(1)} s`);
  const lines = [
    '# bench:fleet',
    '',
    `Server: one process on PostgreSQL (${new URL(databaseUrl).host}, a fresh schema) with the embedded in-process ` +
      `job queue, LOG_LEVEL=${serverLogLevel}, loopback. ${os.availableParallelism()} cores shared by the server, ` +
      `the load generators and anything else running (${os.cpus()[0]?.model ?? 'cpu'}; load average at the end ` +
      `${os.loadavg()[0]!.toFixed(1)}). Server log: bench-results/fleet-server.log.`,
    '',
    `## Polls: ${deviceCount} device tokens round-robin, ${connections} connections, ${seconds} s per run (after ${warmupSeconds} s warm-up)`,
    '',
    '| run | polls/s | median ms | p99 ms | max ms | server CPU | statuses | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...pollRows.map(
      ([name, r]) =>
        `| ${name} | ${Math.round(r.perSecond)} | ${r.medianMs} | ${r.p99Ms} | ${r.maxMs} | ${cpu(r)} | ${statusText(r.statuses)} | ${r.errors + r.timeouts} |`,
    ),
    '',
    `ModelFleet / bare: ${(modelfleet.perSecond / ceiling.perSecond).toFixed(2)}x polls/s, ` +
      `p99 ${(modelfleet.p99Ms / Math.max(ceiling.p99Ms, 0.001)).toFixed(2)}x. ` +
      `A fleet of ${deviceCount} polling every 60 s makes ${Math.round(deviceCount / 60)} polls/s.`,
  ];
  if (rollouts.length > 0) {
    lines.push(
      '',
      `## Rollouts: ${agentCount} simulated agents (bench/fleet-agents.ts; the agent's own poll, verify, download, ` +
        'install and report code; the TF.js smoke test replaced by a pass)',
      '',
      '| rollout | converged in | installed | bytes served | bytes / device | server CPU | lost reports | wrong installs |',
      '|---|---|---|---|---|---|---|---|',
      ...rollouts.map(
        (r) =>
          `| ${r.name} | ${r.convergeSeconds.toFixed(1)} s | ${r.installed}/${r.agents} | ${(r.bytesServed / 1e6).toFixed(1)} MB | ` +
          `${Math.round(r.bytesServed / r.agents)} B | ${r.serverCpuSeconds.toFixed(1)} s | ${r.lostReports} | ${r.wrongInstalls} |`,
      ),
      '',
      ...rollouts.map((r) => `- ${r.name}: ${r.note}`),
    );
  }
  lines.push('', `Whole benchmark: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.writeFile(path.join(out, 'fleet.md'), `${lines.join('\n')}\n`);

  for (const [name, r] of pollRows) {
    const unexpected = Object.keys(r.statuses).filter((status) => status !== '304');
    if (unexpected.length > 0) throw new Error(`${name}: unexpected statuses ${statusText(r.statuses)}`);
  }
  for (const r of rollouts) {
    if (r.lostReports !== 0 || r.wrongInstalls !== 0 || r.installed !== r.agents)
      throw new Error(
        `${r.name}: ${r.installed}/${r.agents} installed, ${r.lostReports} lost reports, ${r.wrongInstalls} wrong installs`,
      );
  }
} catch (error) {
  failed = true;
  process.stderr.write(
    `bench:fleet failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await database.cleanup();
  await fs.rm(workDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
