/**
 * The rollout half of bench:fleet: a line with two demo models (the base, then its fine-tuned successor)
 * optimized by the server's own job, N simulated agents in a few processes (bench/fleet-agents.ts), and two
 * rollouts in waves (10 %, then 100 %): release 1 to devices with nothing installed (full artifacts), then
 * release 2 to devices that run release 1 (deltas where the server offers them). For each: time from the
 * rollout's creation until every agent installed it and the rollout completed, bytes the agents received for
 * artifacts and deltas, the server's CPU time, reports lost (an agent installed, the server does not show it)
 * and wrong installs (the agent's current folder is not the release's artifact, or fails its checks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { checkReleaseFolder, linkedSha256 } from '@modelfleet/agent';
import type { DeviceList, ModelVersion, PublicKeys, RolloutView } from '@modelfleet/contracts';
import { encodeDataset } from '@modelfleet/datasets';
import { createDemoDatasets, demoDatasetSpec, demoModelDir, readDemoManifest } from '@modelfleet/demo-models';
import { cpuSecondsOf } from './fleet-support.js';

export interface RolloutRow {
  name: string;
  agents: number;
  installed: number;
  convergeSeconds: number;
  bytesServed: number;
  serverCpuSeconds: number;
  lostReports: number;
  wrongInstalls: number;
  note: string;
}

export interface RolloutOptions {
  appRoot: string;
  workDir: string;
  serverBase: string;
  serverPid: number;
  adminKey: string;
  agentCount: number;
}

const LINE = 'bench-fleet';
const AGENT_PROCESSES = 4;
/** 1,000 agents polling every 5 s: 200 polls/s, a third of what one server answered on this machine under load. */
const POLL_SECONDS = 5;

interface AgentEvent {
  deviceId?: string;
  kind: string;
  release?: number;
  sha256?: string;
  reason?: string;
  received?: { poll: number; blob: number; other: number };
  requests?: { blob: number; delta: number };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A 5xx while the server is saturated is a moment, not the end: ask again until the deadline.
    const value = await check().catch((error: unknown) => {
      if (/: 5\d\d /.test(String(error)) && Date.now() < deadline) return undefined;
      throw error;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function runRollouts(options: RolloutOptions): Promise<RolloutRow[]> {
  const { serverBase, adminKey, agentCount } = options;
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${serverBase}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${text}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  };

  // The line, its test set and two versions, optimized by the server (one cheap variant, few latency runs).
  // The test set first: generating it takes a while, and a connection idle that long may be closed by the server.
  const datasets = await createDemoDatasets(demoDatasetSpec);
  const manifest = readDemoManifest();
  const [height, width] = manifest.inputShape;
  await call('POST', '/v1/models', {
    name: LINE,
    preprocessing: {
      inputSize: [height, width],
      scale: manifest.preprocessing.scale,
      offset: manifest.preprocessing.offset,
      classNames: manifest.classNames,
    },
    policy: { variants: ['theta4'], latencyRuns: 5, autoPublish: false },
  });
  const form = new FormData();
  form.set('role', 'test');
  form.set('file', new Blob([encodeDataset(datasets.test)]), 'test.mfds');
  await call('POST', `/v1/models/${LINE}/datasets`, form);
  const uploadVersion = async (model: Parameters<typeof demoModelDir>[0]): Promise<ModelVersion> => {
    const dir = demoModelDir(model);
    const files = new FormData();
    for (const name of await fs.readdir(dir)) {
      if (name !== 'model.json' && !name.endsWith('.bin')) continue;
      files.set(name, new Blob([await fs.readFile(path.join(dir, name))]), name);
    }
    const accepted = await call<{ id: string }>('POST', `/v1/models/${LINE}/versions`, files);
    return waitFor(
      `${model} optimized`,
      async () => {
        const version = await call<ModelVersion>('GET', `/v1/models/${LINE}/versions/${accepted.id}`);
        if (version.status === 'failed') throw new Error(`${model}: optimize failed`);
        return version.status === 'ready' ? version : undefined;
      },
      180_000,
    );
  };
  const started = Date.now();
  const first = await uploadVersion('mobilenet-v1-025-64');
  process.stderr.write(`release 1 candidate optimized in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

  // The agents: enrolled through an enrolment token, the server's key pinned at provisioning.
  const enrollment = await call<{ token: string }>('POST', '/v1/enrollment-tokens', {
    name: 'bench-fleet',
    scope: { line: LINE, channel: 'stable' },
  });
  const keys = await call<PublicKeys>('GET', '/v1/keys');
  const dataRoot = path.join(options.workDir, 'agents');
  const events: AgentEvent[] = [];
  const bytesByProcess = new Map<number, { blob: number; delta: number; bytes: number }>();
  const children: ChildProcess[] = [];
  const perProcess = Math.ceil(agentCount / AGENT_PROCESSES);
  for (let p = 0; p < AGENT_PROCESSES; p++) {
    const count = Math.min(perProcess, agentCount - p * perProcess);
    if (count <= 0) break;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/fleet-agents.ts',
        JSON.stringify({
          server: serverBase,
          dataRoot,
          first: p * perProcess,
          count,
          enrollmentToken: enrollment.token,
          publicKey: keys.keys[0]!.publicKey,
          pollSeconds: POLL_SECONDS,
          classes: manifest.classNames.length,
        }),
      ],
      { cwd: options.appRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as AgentEvent;
      if (event.kind === 'bytes')
        bytesByProcess.set(p, {
          bytes: event.received!.blob,
          blob: event.requests!.blob,
          delta: event.requests!.delta,
        });
      else events.push(event);
    });
  }
  const transferred = () => {
    let bytes = 0;
    let blob = 0;
    let delta = 0;
    for (const entry of bytesByProcess.values()) {
      bytes += entry.bytes;
      blob += entry.blob;
      delta += entry.delta;
    }
    return { bytes, blob, delta };
  };

  try {
    const enrolled = () => new Set(events.filter((e) => e.kind === 'polled').map((e) => e.deviceId)).size;
    await waitFor(
      'every agent enrolled and polling',
      async () => (enrolled() >= agentCount ? true : undefined),
      180_000,
    ).catch((error: unknown) => {
      const errors = events.filter((e) => e.kind === 'error');
      throw new Error(
        `${String(error)}: ${enrolled()} of ${agentCount}; ${errors.length} agent errors (last: ${errors.at(-1)?.reason ?? 'none'})`,
      );
    });
    const rows: RolloutRow[] = [];
    const rollout = async (name: string, version: ModelVersion): Promise<void> => {
      const bytesBefore = transferred();
      const cpuBefore = (await cpuSecondsOf(options.serverPid)) ?? 0;
      const eventsBefore = events.length;
      const t0 = Date.now();
      const created = await call<RolloutView>('POST', '/v1/rollouts', {
        line: LINE,
        version: version.id,
        waves: [{ percent: 10 }, { percent: 100 }],
        errorThreshold: { count: 1 },
      });
      const installedBy = () => {
        const devices = new Map<string, AgentEvent>();
        for (const event of events.slice(eventsBefore))
          if (event.kind === 'installed' && event.release === created.release) devices.set(event.deviceId!, event);
        return devices;
      };
      const done = await waitFor(
        `${name}: every agent installed release ${created.release} and the rollout completed`,
        async () => {
          const view = await call<RolloutView>('GET', `/v1/rollouts/${created.id}`);
          if (view.state === 'paused' || view.state === 'aborted')
            throw new Error(`${name}: rollout ${view.state} (${view.stateReason ?? ''})`);
          return view.state === 'completed' && installedBy().size >= agentCount ? view : undefined;
        },
        150_000,
      );
      const convergeSeconds = (Date.now() - t0) / 1000;
      const cpuAfter = (await cpuSecondsOf(options.serverPid)) ?? 0;
      const bytesAfter = transferred();
      const installed = installedBy();

      // Lost reports: the agent installed it, the server's view of the device says otherwise (given a moment:
      // reports leave the outbox right after the install, the last ones may still be in flight).
      let lost = agentCount;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const fleet = await call<DeviceList>('GET', `/v1/devices?line=${LINE}`);
        const shown = new Map(fleet.items.map((device) => [device.deviceId, device]));
        lost = [...installed.keys()].filter((deviceId) => {
          const device = shown.get(deviceId);
          return device === undefined || device.release !== created.release || device.state !== 'installed';
        }).length;
        if (lost === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      // Wrong installs: what each device's data folder runs, checked as the agent checks it.
      let wrong = 0;
      for (const deviceId of installed.keys()) {
        const dir = path.join(dataRoot, deviceId);
        const sha = await linkedSha256(path.join(dir, 'current'));
        const ok =
          sha === done.artifactSha256 &&
          (await checkReleaseFolder(path.join(dir, 'releases', sha)).then(
            (record) => record.release === created.release,
            () => false,
          ));
        if (!ok) wrong += 1;
      }
      const failures = events.slice(eventsBefore).filter((e) => e.kind === 'failed' || e.kind === 'refused');
      rows.push({
        name,
        agents: agentCount,
        installed: installed.size,
        convergeSeconds,
        bytesServed: bytesAfter.bytes - bytesBefore.bytes,
        serverCpuSeconds: cpuAfter - cpuBefore,
        lostReports: lost,
        wrongInstalls: wrong,
        note:
          `release ${created.release}, artifact ${done.artifactSha256.slice(0, 12)}…; ` +
          `${bytesAfter.blob - bytesBefore.blob} /v1/blobs requests (artifacts and deltas are both blobs), ${bytesAfter.delta - bytesBefore.delta} on other delta routes; ` +
          `${failures.length} failed or refused checks on the way` +
          (failures.length > 0 ? ` (first: ${failures[0]!.reason ?? failures[0]!.kind})` : ''),
      });
    };

    await rollout('release 1 to devices with nothing installed (full artifacts)', first);
    const second = await uploadVersion('mobilenet-v1-025-64-finetune');
    await rollout('release 2 to devices on release 1 (deltas where offered)', second);
    return rows;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve(),
      ),
    );
    await fs.rm(dataRoot, { recursive: true, force: true });
  }
}
