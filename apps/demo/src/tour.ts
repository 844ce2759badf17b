import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  createApiClient,
  renderCandidateTable,
  resolveDatasetFile,
  resolveVersionUpload,
  waitForVersion,
  type ApiClient,
} from '@modelfleet/cli';
import type { CreatedEnrollmentToken, DeviceList, ModelVersion } from '@modelfleet/contracts';
import { encodeDataset } from '@modelfleet/datasets';
import { createDemoDatasets, demoDatasetSpec, demoModelDir, readDemoManifest } from '@modelfleet/demo-models';
import { startAgentProcess, startServerProcess, type TourProcess } from './processes.js';

export interface TourOptions {
  /** The tour's own folder: wiped at the start (server data, agents, logs). */
  dataDir: string;
  port: number;
  host: string;
  agents: number;
  /** Variants the line tries; all of them by default. */
  variants: string[] | undefined;
  /**
   * Weights of the objective L. By default the study's (1 each) plus the fleet's wire bytes (1): a line that
   * already has devices prefers the candidate they reach by a small delta.
   */
  weights?: { size: number; latency: number; accuracy: number; fleetWire?: number };
  /** Stop everything once the agents have moved (tests, CI); else leave the server and agents running. */
  exit: boolean;
  /** How long one optimize job may take before the tour gives up. */
  jobTimeoutMs: number;
  say(text: string): void;
}

export interface TourResult {
  url: string;
  adminKey: string;
  line: string;
  releases: number[];
  /** How the agents fetched the successor: `delta` or `full`, with the bytes the devices reported. */
  successorDownload: { kind: 'delta' | 'full' | 'mixed'; bytes: number; fullBytes: number };
  processes: TourProcess[];
  stop(): Promise<void>;
}

export const DEMO_LINE = 'waste-sorter';
const DEMO_WEIGHTS = { size: 1, latency: 1, accuracy: 1, fleetWire: 1 };
const BASE_MODEL = 'mobilenet-v1-025-64';
const SUCCESSOR_MODEL = 'mobilenet-v1-025-64-head';

const formatBytes = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

/** A `mfk_…` admin key for this tour's server (registered at its start; printed at the end). */
function newAdminKey(): string {
  return `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Fetches a route the CLI's client has no function for, with the admin key. */
async function call<T>(url: string, key: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return (url.endsWith('/metrics') ? text : JSON.parse(text)) as T;
}

/** Sums a metric's samples whose labels contain `labels` (e.g. `kind="delta"`). */
function metric(text: string, name: string, labels: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function uploadAndWait(client: ApiClient, model: string, options: TourOptions): Promise<ModelVersion> {
  const source = await resolveVersionUpload(demoModelDir(model as never));
  options.say(`Uploading ${model} (${formatBytes(source.fileBytes)}, float32)…`);
  const accepted = await client.uploadVersion(DEMO_LINE, source.parts);
  let lastStage = '';
  const version = await waitForVersion(client, DEMO_LINE, accepted.id, {
    intervalMs: 1000,
    timeoutMs: options.jobTimeoutMs,
    onUpdate: (update) => {
      const stage = `${update.status} ${update.progress.stage ?? ''}`.trim();
      if (stage !== lastStage) {
        lastStage = stage;
        options.say(`  … ${stage} (${Math.round(update.progress.percent)} %)`);
      }
    },
  });
  if (version.status !== 'ready') {
    throw new Error(`optimizing ${model} failed: ${version.error?.code ?? ''} ${version.error?.message ?? ''}`);
  }
  options.say('');
  options.say(renderCandidateTable(version.candidates));
  const winner = version.candidates.find((candidate) => candidate.winner);
  const release = version.releaseNumbers[0];
  options.say(
    winner === undefined
      ? 'No candidate met the constraints: nothing published.'
      : `Winner: ${winner.variant} (${formatBytes(winner.wireBytes)} to download, ${winner.accuracy.toFixed(2)} % accuracy)` +
          (release === undefined ? '' : `, published as release ${release.number} on ${release.channel}.`),
  );
  return version;
}

/**
 * The newcomer's tour: a server on the embedded default, the demo line with its datasets, the demo model
 * optimized (candidate table, winner), agents that install it, then the successor they move to by delta.
 */
export async function runTour(options: TourOptions): Promise<TourResult> {
  const { say } = options;
  await fs.rm(options.dataDir, { recursive: true, force: true });
  await fs.mkdir(path.join(options.dataDir, 'logs'), { recursive: true });
  const processes: TourProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((process) => process.stop()));
  };
  try {
    const adminKey = newAdminKey();
    say(`Starting the server (embedded PostgreSQL and in-process jobs in ${options.dataDir}) …`);
    const server = startServerProcess(
      {
        PORT: String(options.port),
        HOST: options.host,
        MODELFLEET_DATA_DIR: path.join(options.dataDir, 'server'),
        MODELFLEET_ADMIN_KEY: adminKey,
        DEVICE_POLL_AFTER_SECONDS: '2',
        DEVICE_RELEASE_CACHE_TTL_MS: '500',
        LOG_LEVEL: 'info',
      },
      path.join(options.dataDir, 'logs', 'server.log'),
    );
    processes.push(server);
    const listening = await server.waitForLine((line) => line.includes('ModelFleet listening'), 120_000);
    const url = (JSON.parse(listening) as { address: string }).address;
    say(`Server up at ${url}`);
    const client = createApiClient({ server: url, key: adminKey });

    const manifest = readDemoManifest();
    const [height, width] = manifest.inputShape;
    const weights = options.weights ?? DEMO_WEIGHTS;
    await client.createModelLine({
      name: DEMO_LINE,
      preprocessing: {
        inputSize: [height, width],
        scale: manifest.preprocessing.scale,
        offset: manifest.preprocessing.offset,
        classNames: manifest.classNames,
      },
      policy: {
        ...(options.variants === undefined ? {} : { variants: options.variants as never }),
        weights,
      },
    } as never);
    say(`Created the model line ${DEMO_LINE} (${manifest.classNames.join(', ')}; ${height}x${width} RGB).`);
    if (weights.fleetWire)
      say(
        "Its objective is the study's L plus the bytes its devices would download (fleetWire 1): once a release " +
          'is out, a candidate the fleet reaches by a small delta scores better.',
      );

    say('Generating the synthetic datasets (bottles and cans on a belt) and uploading them …');
    const datasets = await createDemoDatasets(demoDatasetSpec);
    for (const [role, dataset] of [
      ['test', datasets.test],
      ['calibration', datasets.calibration],
    ] as const) {
      const file = path.join(options.dataDir, `${role}.mfds`);
      await fs.writeFile(file, encodeDataset(dataset));
      await client.addDataset(DEMO_LINE, { role, file: await resolveDatasetFile(file) });
      say(`  ${role}: ${dataset.labels.length} images`);
    }

    const base = await uploadAndWait(client, BASE_MODEL, options);
    const first = base.releaseNumbers[0]?.number;
    if (first === undefined) throw new Error('the demo model was not published');

    const enrollment = await call<CreatedEnrollmentToken>(`${url}/v1/enrollment-tokens`, adminKey, {
      method: 'POST',
      body: { name: 'demo hall', scope: { line: DEMO_LINE, channel: 'stable' } },
    });
    const keys = await client.publicKeys();
    const names = Array.from({ length: options.agents }, (_, index) => `demo-pi-${index + 1}`);
    say(`Starting ${names.length} device agents (${names.join(', ')}) …`);
    for (const name of names) {
      processes.push(
        startAgentProcess(
          name,
          {
            MODELFLEET_AGENT_SERVER: url,
            MODELFLEET_AGENT_ENROLLMENT_TOKEN: enrollment.token,
            MODELFLEET_AGENT_PUBLIC_KEY: keys.keys.map((key) => key.publicKey).join(','),
            MODELFLEET_AGENT_DATA_DIR: path.join(options.dataDir, 'agents', name),
            MODELFLEET_AGENT_DEVICE_ID: name,
            MODELFLEET_AGENT_POLL_SECONDS: '2',
            MODELFLEET_AGENT_MIN_POLL_SECONDS: '0.5',
          },
          path.join(options.dataDir, 'logs', `${name}.log`),
        ),
      );
    }
    const fleetAt = (release: number) =>
      until(
        async () => {
          const fleet = await call<DeviceList>(`${url}/v1/devices`, adminKey);
          const ready = names.every((name) =>
            fleet.items.some(
              (device) => device.deviceId === name && device.release === release && device.state === 'installed',
            ),
          );
          return ready ? fleet : undefined;
        },
        options.jobTimeoutMs,
        `the agents to install release ${release}`,
      );
    let fleet = await fleetAt(first);
    for (const device of fleet.items) {
      say(
        `  ${device.deviceId}: release ${device.release} installed, smoke test ${device.smokeLatencyMs?.toFixed(1)} ms`,
      );
    }

    const before = await call<string>(`${url}/metrics`, adminKey);
    const successor = await uploadAndWait(client, SUCCESSOR_MODEL, options);
    const second = successor.releaseNumbers[0]?.number;
    if (second === undefined) throw new Error('the successor was not published');
    say(`Waiting for the agents to move to release ${second} …`);
    fleet = await fleetAt(second);
    const after = await call<string>(`${url}/metrics`, adminKey);
    const moved = (name: string, labels: string) => metric(after, name, labels) - metric(before, name, labels);
    const deltas = moved('modelfleet_device_downloads_total', 'kind="delta"');
    const fulls = moved('modelfleet_device_downloads_total', 'kind="full"');
    const bytes =
      moved('modelfleet_device_download_bytes_total', 'kind="delta"') +
      moved('modelfleet_device_download_bytes_total', 'kind="full"');
    const fullBytes = successor.candidates.find((candidate) => candidate.winner)?.wireBytes ?? 0;
    const kind = deltas > 0 && fulls === 0 ? 'delta' : fulls > 0 && deltas === 0 ? 'full' : 'mixed';
    for (const device of fleet.items) say(`  ${device.deviceId}: release ${device.release} installed`);
    if (kind === 'delta') {
      say(
        `The agents moved by delta: ${formatBytes(bytes / names.length)} each instead of ${formatBytes(fullBytes)} for the whole artifact.`,
      );
    } else if (kind === 'full') {
      say(
        `The agents moved by full download (${formatBytes(bytes / names.length)} each): this server offered no delta for this pair of releases.`,
      );
    } else {
      say(`The agents moved: ${deltas} by delta, ${fulls} by full download (${formatBytes(bytes)} in all).`);
    }

    return {
      url,
      adminKey,
      line: DEMO_LINE,
      releases: [first, second],
      successorDownload: { kind, bytes, fullBytes },
      processes,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
