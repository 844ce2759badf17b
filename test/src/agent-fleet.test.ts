import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CreatedEnrollmentToken, DeviceInfo, DeviceList, ModelVersion } from '@modelfleet/contracts';
import { checkReleaseFolder, linkedSha256, type AgentStatus } from '@modelfleet/agent';
import { demoModelDir } from '@modelfleet/demo-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoLineArgs, writeDemoFiles, type DemoFiles } from './support/demo-data.js';
import {
  runAgent,
  runCli,
  serverAddress,
  startAgent,
  startServer,
  testAgentEnv,
  type RunningProcess,
} from './support/processes.js';

/** One blob request as it crossed the proxy: the Range asked for and the body bytes the server sent. */
interface BlobTransfer {
  sha256: string;
  range: string | null;
  status: number;
  bytes: number;
}

/**
 * A loopback proxy in front of the server that counts blob bytes per request. The server counts bytes
 * served too (in-process, not exposed over HTTP to a separate test process), so the test counts on the wire.
 */
async function startCountingProxy(
  target: () => string,
): Promise<{ url: string; transfers: BlobTransfer[]; close(): Promise<void> }> {
  const transfers: BlobTransfer[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = new URL(incoming.url ?? '/', target());
    const forward = httpRequest(
      upstream,
      { method: incoming.method, headers: { ...incoming.headers, host: upstream.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        const blob = /^\/v1\/blobs\/([0-9a-f]{64})$/.exec(upstream.pathname);
        const transfer: BlobTransfer | null =
          blob === null
            ? null
            : {
                sha256: blob[1]!,
                range: (incoming.headers.range as string | undefined) ?? null,
                status: answer.statusCode ?? 0,
                bytes: 0,
              };
        if (transfer !== null) transfers.push(transfer);
        answer.on('data', (chunk: Buffer) => {
          if (transfer !== null) transfer.bytes += chunk.length;
        });
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    transfers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isInstalled = (release: number) => (line: Record<string, unknown>) =>
  line.msg === 'installed' && line.release === release;

/**
 * Issue 5, acceptance 1 and the faults of acceptance 2 that need the real server: the server and the agents
 * run as separate processes on loopback; releases are made with the CLI (one cheap variant per upload).
 */
describe('device agents against the server', () => {
  let workDir = '';
  let dataDir = '';
  let demo: DemoFiles;
  let server: RunningProcess;
  let address = '';
  let port = '';
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const running: RunningProcess[] = [];
  let agentEnv: Record<string, string> = {};
  const releases = new Map<number, string>(); // release number -> artifact sha256

  const serverEnv = () => ({
    MODELFLEET_DATA_DIR: dataDir,
    MODELFLEET_ADMIN_KEY: adminKey,
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
    DEVICE_POLL_AFTER_SECONDS: '1',
    DEVICE_RELEASE_CACHE_TTL_MS: '200',
    // This file is about full downloads (resume, corrupted blobs, restarts); a delta of under 0.01 % of the
    // artifact never exists, so no delta is offered here. Deltas have their own test: agent-delta.test.ts.
    MODELFLEET_DELTA_MAX_RATIO: '0.0001',
  });
  const cli = async (...args: string[]) => {
    const result = await runCli(args, {
      MODELFLEET_SERVER: address,
      MODELFLEET_KEY: adminKey,
      MODELFLEET_CONFIG: path.join(workDir, 'cli.json'),
    });
    expect(result.code, `modelfleet ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${address}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${url}`).toBeLessThan(300);
    return (await response.json()) as T;
  };
  const publish = async (model: string): Promise<number> => {
    const version = JSON.parse(
      await cli('upload', demoModelDir(model as never), '--line', 'sorter', '--wait', '--json'),
    ) as ModelVersion;
    const number = version.releaseNumbers[0]!.number;
    releases.set(number, version.candidates.find((candidate) => candidate.winner)!.artifactSha256);
    return number;
  };
  const agentDir = (name: string) => path.join(workDir, 'agents', name);
  const envFor = (name: string, extra: Record<string, string> = {}) => ({
    ...agentEnv,
    MODELFLEET_AGENT_DATA_DIR: agentDir(name),
    MODELFLEET_AGENT_DEVICE_ID: name,
    ...extra,
  });
  const start = (name: string, extra: Record<string, string> = {}) => {
    const agent = startAgent(['run'], envFor(name, extra));
    running.push(agent);
    return agent;
  };
  const status = async (name: string): Promise<AgentStatus> => {
    const result = await runAgent(['status', '--json'], envFor(name));
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as AgentStatus;
  };
  const devices = async () =>
    new Map((await api<DeviceList>('GET', '/v1/devices')).items.map((device) => [device.deviceId, device]));
  /**
   * The fleet view once it agrees: the agent logs `installed` before its report has reached the server, so the
   * view is read until it matches or the deadline passes (then the last view fails the assertion).
   */
  const fleetWhen = async (agrees: (fleet: Map<string, DeviceInfo>) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fleet = await devices();
      if (agrees(fleet) || Date.now() > deadline) return fleet;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const allAt = (names: string[], state: string, release: number) => (fleet: Map<string, DeviceInfo>) =>
    names.every((name) => fleet.get(name)?.state === state && fleet.get(name)?.release === release);
  /** The device's current release folder is complete and verified (bundle sha256, unpacked files). */
  const assertVerifiedCurrent = async (name: string, release: number) => {
    const sha = await linkedSha256(path.join(agentDir(name), 'current'));
    expect(sha).toBe(releases.get(release));
    expect((await checkReleaseFolder(path.join(agentDir(name), 'releases', sha!))).release).toBe(release);
  };

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-agent-'));
    dataDir = path.join(workDir, 'server');
    demo = await writeDemoFiles(workDir);
    server = startServer(serverEnv());
    running.push(server);
    address = await serverAddress(server);
    port = new URL(address).port;
    proxy = await startCountingProxy(() => address);
    await cli(...demoLineArgs('sorter', demo));
    await cli('datasets', 'add', demo.testSet, '--line', 'sorter', '--role', 'test');
    const enrollment = await api<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
      name: 'hall 3',
      scope: { line: 'sorter', channel: 'stable' },
    });
    agentEnv = await testAgentEnv(address, proxy.url, enrollment.token);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await proxy?.close();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('three agents install the first release, then all move to the second; status and the fleet view show it', async () => {
    const agents = ['pi-1', 'pi-2', 'pi-3'].map((name) => start(name));
    // enrolled and polling before anything is published (204)
    await Promise.all(
      agents.map((agent) =>
        agent.waitForLine((line) => line.msg === 'round done' && line.outcome === 'no-release', 60_000),
      ),
    );
    expect(await publish('mobilenet-v1-025-64')).toBe(1);
    await Promise.all(agents.map((agent) => agent.waitForLine(isInstalled(1), 120_000)));
    let fleet = await fleetWhen(allAt(['pi-1', 'pi-2', 'pi-3'], 'installed', 1));
    for (const name of ['pi-1', 'pi-2', 'pi-3']) {
      expect(fleet.get(name)).toMatchObject({
        state: 'installed',
        release: 1,
        artifactSha256: releases.get(1),
        line: 'sorter',
      });
      expect(fleet.get(name)!.smokeLatencyMs).toBeGreaterThan(0);
      await assertVerifiedCurrent(name, 1);
    }

    expect(await publish('mobilenet-v1-025-64-finetune')).toBe(2);
    await Promise.all(agents.map((agent) => agent.waitForLine(isInstalled(2), 120_000)));
    fleet = await fleetWhen(allAt(['pi-1', 'pi-2', 'pi-3'], 'installed', 2));
    for (const name of ['pi-1', 'pi-2', 'pi-3']) {
      expect(fleet.get(name)).toMatchObject({ state: 'installed', release: 2, artifactSha256: releases.get(2) });
      const shown = await status(name);
      expect(shown.current).toMatchObject({ release: 2, sha256: releases.get(2), line: 'sorter', channel: 'stable' });
      expect(shown.previous).toMatchObject({ release: 1, sha256: releases.get(1) });
      expect(shown.lastError).toBeNull();
      expect(shown.pendingReports).toBe(0);
    }
    const text = await runAgent(['status'], envFor('pi-1'));
    expect(text.stdout).toContain(`release 2`);
    // SIGTERM between polls: a clean exit 0
    for (const agent of agents) expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('kill -9 mid-download resumes with Range; the bytes already on disk are not fetched again', async () => {
    const sha = releases.get(2)!;
    const first = start('pi-4', { MODELFLEET_AGENT_TEST_HANG_AFTER_BYTES: '200000' });
    await first.waitForLine((line) => line.msg === 'test seam: hanging mid-download', 60_000);
    await first.stop('SIGKILL');
    const onDisk = (await fs.stat(path.join(agentDir('pi-4'), 'downloads', `${sha}.part`))).size;
    expect(onDisk).toBeGreaterThanOrEqual(200_000);
    const before = proxy.transfers.filter((transfer) => transfer.sha256 === sha).length;

    const second = start('pi-4');
    await second.waitForLine(isInstalled(2), 120_000);
    const resumed = proxy.transfers.filter((transfer) => transfer.sha256 === sha).slice(before);
    const size = (await fs.stat(path.join(agentDir('pi-4'), 'releases', sha, 'artifact.mfbundle'))).size;
    expect(resumed).toEqual([{ sha256: sha, range: `bytes=${onDisk}-`, status: 206, bytes: size - onDisk }]);
    expect((await fleetWhen(allAt(['pi-4'], 'installed', 2))).get('pi-4')).toMatchObject({
      state: 'installed',
      release: 2,
    });
    await assertVerifiedCurrent('pi-4', 2);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('kill -9 during install keeps the previous complete model current; the restart cleans up and installs', async () => {
    expect(await publish('mobilenet-v1-025-64-head')).toBe(3);
    for (const step of ['staging-synced', 'previous-swapped']) {
      const agent = start('pi-1', { MODELFLEET_AGENT_TEST_HANG_AT: step });
      await agent.waitForLine(
        (line) => line.msg === 'test seam: hanging at install step' && line.step === step,
        120_000,
      );
      await agent.stop('SIGKILL');
      await assertVerifiedCurrent('pi-1', 2);
    }
    const agent = start('pi-1');
    await agent.waitForLine((line) => line.msg === 'recovered the data folder after an interrupted run', 60_000);
    await agent.waitForLine(isInstalled(3), 120_000);
    await assertVerifiedCurrent('pi-1', 3);
    expect((await fleetWhen(allAt(['pi-1'], 'installed', 3))).get('pi-1')?.release).toBe(3);
    const left = await fs.readdir(path.join(agentDir('pi-1'), 'releases'));
    expect(left.sort()).toEqual([releases.get(2)!, releases.get(3)!].sort());
    expect((await status('pi-1')).previous?.release).toBe(2);
    expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a corrupted blob on the server is refused, reported failed, and the old model kept', async () => {
    const sha = releases.get(3)!;
    const blobFile = path.join(dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha);
    const original = await fs.readFile(blobFile);
    const corrupted = Buffer.from(original);
    corrupted[corrupted.length - 100] = corrupted[corrupted.length - 100]! ^ 0xff;
    await fs.writeFile(blobFile, corrupted);
    try {
      const check = await runAgent(['check'], envFor('pi-2'));
      expect(check.code, check.stderr).toBe(13);
      expect(check.stdout).toMatch(/sha256/);
      // `check` exits after its reports were sent: the view is current. The device still runs release 2.
      const device = (await devices()).get('pi-2')!;
      expect(device).toMatchObject({ state: 'failed', release: 2, artifactSha256: releases.get(2) });
      expect(device.lastError).toMatch(/sha256/);
      await assertVerifiedCurrent('pi-2', 2);
      expect(await fs.readdir(path.join(agentDir('pi-2'), 'downloads'))).toEqual([]);
    } finally {
      await fs.writeFile(blobFile, original);
    }
    const retry = await runAgent(['check'], envFor('pi-2'));
    expect(retry.code, retry.stderr).toBe(10);
    await assertVerifiedCurrent('pi-2', 3);
  });

  it('with the server down the agent backs off (growing delays), then recovers when it is back', async () => {
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const agent = start('pi-3');
    const failures = async (count: number) => {
      await agent.waitForLine(
        () => agent.lines.filter((line) => line.msg === 'round failed; backing off').length >= count,
        60_000,
      );
      return agent.lines
        .filter((line) => line.msg === 'round failed; backing off')
        .map((line) => line.failures as number);
    };
    expect(await failures(4)).toEqual([1, 2, 3, 4]);
    server = startServer({ ...serverEnv(), PORT: port });
    running.push(server);
    address = await serverAddress(server);
    await agent.waitForLine((line) => line.msg === 'server reachable again', 60_000);
    await agent.waitForLine(isInstalled(3), 120_000);
    // never hammering: delays between failed rounds stayed within the configured bounds (0.1 s .. 2 s)
    const delays = agent.lines
      .filter((line) => line.msg === 'round failed; backing off')
      .map((line) => line.delayMs as number);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(2000);
    }
    await assertVerifiedCurrent('pi-3', 3);
    expect((await fleetWhen(allAt(['pi-3'], 'installed', 3))).get('pi-3')?.release).toBe(3);
    expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
