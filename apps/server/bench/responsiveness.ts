/**
 * bench:api — does the API stay responsive while an optimize job runs? Starts the server on the
 * embedded default (a fresh data folder), measures GET /healthz latency idle, then again while the
 * demo model's optimize job runs (every candidate of the default policy), and prints both side by side.
 *
 *   npm run bench:api [-- --seconds 8 --concurrency 4]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeDataset } from '@modelfleet/datasets';
import { createDemoDatasets, demoDatasetSpec, loadDemoModelFiles, readDemoManifest } from '@modelfleet/demo-models';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const seconds = Number(args.get('seconds') ?? 8);
const concurrency = Number(args.get('concurrency') ?? 4);

const appRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-bench-api-'));
const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: appRoot,
  env: {
    ...process.env,
    PORT: '0',
    MODELFLEET_DATA_DIR: dataDir,
    MODELFLEET_ADMIN_KEY: adminKey,
    LOG_LEVEL: 'info',
    DATABASE_URL: '',
    REDIS_URL: '',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const address = await new Promise<string>((resolve, reject) => {
  server.once('exit', () => reject(new Error('server exited')));
  createInterface({ input: server.stdout! }).on('line', (line) => {
    const match = /listening on (http:\/\/[^\s]+)/i.exec(line);
    if (match) resolve(match[1]!);
  });
});

const auth = { authorization: `Bearer ${adminKey}` };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Hammers /healthz from `concurrency` loops until `until()` is false; returns sorted latencies in ms. */
async function measure(until: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (until()) {
        const started = performance.now();
        const response = await fetch(`${address}/healthz`);
        await response.arrayBuffer();
        samples.push(performance.now() - started);
      }
    }),
  );
  return samples.sort((a, b) => a - b);
}

function summary(samples: number[]) {
  return {
    requests: samples.length,
    median: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples[samples.length - 1]!,
  };
}

try {
  // Set up a line, its datasets and the upload outside the measured windows.
  const manifest = readDemoManifest();
  const datasets = await createDemoDatasets(demoDatasetSpec);
  const post = (url: string, body: unknown) =>
    fetch(`${address}${url}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/v1/models', {
    name: 'bench',
    preprocessing: {
      inputSize: [manifest.inputShape[0], manifest.inputShape[1]],
      ...manifest.preprocessing,
      classNames: manifest.classNames,
    },
    policy: { autoPublish: false },
  });
  for (const [role, dataset] of [
    ['test', datasets.test],
    ['calibration', datasets.calibration],
  ] as const) {
    const form = new FormData();
    form.append('role', role);
    form.append('file', new Blob([encodeDataset(dataset)]), `${role}.mfds`);
    const response = await fetch(`${address}/v1/models/bench/datasets`, { method: 'POST', headers: auth, body: form });
    if (response.status !== 201) throw new Error(`dataset upload: ${response.status} ${await response.text()}`);
  }

  const idleEnd = Date.now() + seconds * 1000;
  const idle = summary(await measure(() => Date.now() < idleEnd));

  const form = new FormData();
  for (const [name, bytes] of loadDemoModelFiles('mobilenet-v1-025-64')) form.append(name, new Blob([bytes]), name);
  const accepted = (await (
    await fetch(`${address}/v1/models/bench/versions`, { method: 'POST', headers: auth, body: form })
  ).json()) as {
    statusUrl: string;
  };
  let status = 'uploaded';
  const jobStarted = Date.now();
  const poller = (async () => {
    while (status === 'uploaded' || status === 'optimizing') {
      const version = (await (await fetch(`${address}${accepted.statusUrl}`, { headers: auth })).json()) as {
        status: string;
      };
      status = version.status;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const busy = summary(await measure(() => status === 'uploaded' || status === 'optimizing'));
  await poller;
  const jobSeconds = (Date.now() - jobStarted) / 1000;

  const rows = [
    ['idle', idle],
    ['during optimize', busy],
  ] as const;
  const lines = [
    `GET /healthz on the embedded default, ${concurrency} concurrent clients (one process, ${os.availableParallelism()} cores); optimize job: ${jobSeconds.toFixed(1)} s, ended ${status}`,
    '',
    '| window | requests | median ms | p99 ms | max ms |',
    '|---|---|---|---|---|',
    ...rows.map(
      ([name, s]) => `| ${name} | ${s.requests} | ${s.median.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.max.toFixed(1)} |`,
    ),
    '',
    `p99 during optimize / idle: ${(busy.p99 / idle.p99).toFixed(2)}x; median: ${(busy.median / idle.median).toFixed(2)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = path.join(appRoot, '..', '..', 'bench-results');
  await fs.mkdir(out, { recursive: true });
  await fs.writeFile(path.join(out, 'api-responsiveness.md'), `${lines.join('\n')}\n`);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await fs.rm(dataDir, { recursive: true, force: true });
}
