import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreatedEnrollmentToken, DeviceInfo, DeviceList, ModelVersion } from '@modelfleet/contracts';
import { checkReleaseFolder, linkedSha256 } from '@modelfleet/agent';
import { demoModelDir } from '@modelfleet/demo-models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlobProxy, type BlobProxy } from './support/blob-proxy.js';
import { demoLineArgs, writeDemoFiles } from './support/demo-data.js';
import {
  runCli,
  serverAddress,
  startAgent,
  startServer,
  testAgentEnv,
  type RunningProcess,
} from './support/processes.js';

/**
 * Issue 6, acceptance 3: agents on release N move to N+1 by delta. The server (a separate process) precomputes
 * the delta after the auto-publish and the polls offer it; every transfer crosses a proxy that counts the bytes
 * per device and corrupts one device's delta in transit. Another device's installed bundle is tampered with.
 * Both fall back to the full artifact in the same update and end on the verified target; the pair was encoded
 * once however many asked.
 */
describe('agents move to the next release by delta', () => {
  let workDir = '';
  let server: RunningProcess;
  let address = '';
  let proxy: BlobProxy;
  const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const running: RunningProcess[] = [];
  let agentEnv: Record<string, string> = {};
  const releases = new Map<number, { sha256: string; size: number }>();

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
    const winner = version.candidates.find((candidate) => candidate.winner)!;
    releases.set(number, { sha256: winner.artifactSha256, size: winner.fileBytes });
    return number;
  };
  const agentDir = (name: string) => path.join(workDir, 'agents', name);
  const start = (name: string) => {
    const agent = startAgent(['run'], {
      ...agentEnv,
      MODELFLEET_AGENT_DATA_DIR: agentDir(name),
      MODELFLEET_AGENT_DEVICE_ID: name,
    });
    running.push(agent);
    return agent;
  };
  const tokenOf = async (name: string) =>
    (JSON.parse(await fs.readFile(path.join(agentDir(name), 'device.json'), 'utf8')) as { deviceToken: string })
      .deviceToken;
  const isDownloaded = (release: number) => (line: Record<string, unknown>) =>
    line.msg === 'downloaded' && line.release === release;
  const isInstalled = (release: number) => (line: Record<string, unknown>) =>
    line.msg === 'installed' && line.release === release;
  const fleetWhen = async (agrees: (fleet: Map<string, DeviceInfo>) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fleet = new Map(
        (await api<DeviceList>('GET', '/v1/devices')).items.map((device) => [device.deviceId, device]),
      );
      if (agrees(fleet) || Date.now() > deadline) return fleet;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-delta-'));
    const demo = await writeDemoFiles(workDir);
    server = startServer({
      MODELFLEET_DATA_DIR: path.join(workDir, 'server'),
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DEVICE_POLL_AFTER_SECONDS: '1',
      DEVICE_RELEASE_CACHE_TTL_MS: '200',
      // A poll that finds the pair being encoded waits for it rather than falling back to the full file.
      MODELFLEET_DELTA_WAIT_MS: '120000',
    });
    running.push(server);
    address = await serverAddress(server, 300_000);
    proxy = await startBlobProxy(() => address);
    await cli(...demoLineArgs('sorter', demo));
    await cli('datasets', 'add', demo.testSet, '--line', 'sorter', '--role', 'test');
    const enrollment = await api<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
      name: 'hall 6',
      scope: { line: 'sorter', channel: 'stable' },
    });
    agentEnv = await testAgentEnv(address, proxy.url, enrollment.token);
  }, 420_000);

  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop('SIGKILL')));
    await proxy?.close();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('moves by delta; a delta corrupted in transit and a tampered install fall back to the full artifact', async () => {
    const names = ['pi-delta', 'pi-transit', 'pi-tampered'];
    expect(await publish('mobilenet-v1-025-64')).toBe(1);
    const agents = new Map(names.map((name) => [name, start(name)]));
    await Promise.all([...agents.values()].map((agent) => agent.waitForLine(isInstalled(1), 120_000)));
    // The server knows what they run (the precompute reads it) once their reports have arrived.
    await fleetWhen((fleet) => names.every((name) => fleet.get(name)?.release === 1));
    for (const agent of agents.values())
      expect(agent.lines.find(isDownloaded(1))).toMatchObject({ path: 'full', bytesFetched: releases.get(1)!.size });

    // Faults: one device's delta is corrupted on the wire, another's installed bundle is changed on disk.
    const transitToken = await tokenOf('pi-transit');
    const base = releases.get(1)!;
    // The first blob that device fetches after release 1 is the delta (offered, and waited for, whenever the pair
    // is computed): only that one is corrupted. (Telling the target apart by its sha256 raced the agent: it can
    // fetch the full artifact before the test has learnt release 2's sha256 from the CLI.)
    let corrupted = false;
    proxy.corrupt = ({ sha256, token }) => {
      if (token !== transitToken || sha256 === base.sha256 || corrupted) return false;
      corrupted = true;
      return true;
    };
    const tamperedBundle = path.join(agentDir('pi-tampered'), 'releases', base.sha256, 'artifact.mfbundle');
    const bytes = await fs.readFile(tamperedBundle);
    bytes[bytes.length >> 1]! ^= 0x01;
    await fs.writeFile(tamperedBundle, bytes);

    const before = proxy.transfers.length;
    expect(await publish('mobilenet-v1-025-64-head')).toBe(2);
    const target = releases.get(2)!;
    await Promise.all([...agents.values()].map((agent) => agent.waitForLine(isInstalled(2), 180_000)));

    const tokens = new Map(await Promise.all(names.map(async (name) => [name, await tokenOf(name)] as const)));
    const fetchedBy = (name: string) => proxy.transfers.slice(before).filter((t) => t.token === tokens.get(name));

    // By delta: only the delta crossed the wire, a small part of the full file.
    const clean = agents.get('pi-delta')!.lines.find(isDownloaded(2))!;
    // On failure, what the agent was offered and why it fell back, and what the server said about deltas.
    const story = () =>
      JSON.stringify({
        agent: agents
          .get('pi-delta')!
          .lines.filter((line) => /offered|delta/.test(String(line.msg)))
          .slice(-6),
        server: server.lines.filter((line) => /delta/i.test(JSON.stringify(line))).slice(-6),
      });
    expect(clean, story()).toMatchObject({ path: 'delta' });
    const deltaTransfers = fetchedBy('pi-delta');
    expect(deltaTransfers.map((t) => [t.status, t.sha256 === target.sha256])).toEqual([[200, false]]);
    const deltaSha256 = deltaTransfers[0]!.sha256;
    const deltaBytes = deltaTransfers[0]!.bytes;
    expect(clean.bytesFetched).toBe(deltaBytes);
    expect(deltaBytes).toBeLessThan(target.size * 0.2);
    expect(agents.get('pi-delta')!.lines.some((line) => line.msg === 'delta applied')).toBe(true);

    // Corrupted in transit: the delta was refused, the full artifact fetched in the same update.
    const transit = agents.get('pi-transit')!;
    expect(transit.lines.find(isDownloaded(2))).toMatchObject({ path: 'full', bytesFetched: deltaBytes + target.size });
    expect(transit.lines.find((line) => line.msg === 'delta failed; fetching the full artifact')).toMatchObject({
      step: 'download',
      code: 'MF_ERR_DOWNLOAD_CORRUPT',
    });
    expect(fetchedBy('pi-transit').map((t) => [t.sha256, t.bytes])).toEqual([
      [deltaSha256, deltaBytes],
      [target.sha256, target.size],
    ]);

    // Tampered install: no delta fetched for a base that is not what it claims; the full artifact instead.
    const tampered = agents.get('pi-tampered')!;
    expect(tampered.lines.find(isDownloaded(2))).toMatchObject({ path: 'full', bytesFetched: target.size });
    expect(tampered.lines.find((line) => line.msg === 'delta failed; fetching the full artifact')).toMatchObject({
      step: 'installed',
    });
    expect(fetchedBy('pi-tampered').map((t) => t.sha256)).toEqual([target.sha256]);

    // Everyone ends on the verified target, and the server's view agrees.
    for (const name of names) {
      const sha = await linkedSha256(path.join(agentDir(name), 'current'));
      expect(sha, name).toBe(target.sha256);
      expect((await checkReleaseFolder(path.join(agentDir(name), 'releases', sha!))).release).toBe(2);
    }
    const fleet = await fleetWhen((view) =>
      names.every((name) => view.get(name)?.state === 'installed' && view.get(name)?.release === 2),
    );
    for (const name of names) expect(fleet.get(name)).toMatchObject({ release: 2, artifactSha256: target.sha256 });

    // The pair was encoded once: by the precompute job after the auto-publish or by the first poll, never both.
    const computed = server.lines.filter(
      (line) => line.msg === 'delta computed' && line.from === base.sha256 && line.to === target.sha256,
    );
    expect(computed).toHaveLength(1);
    expect(computed[0]).toMatchObject({ offered: true, deltaBytes });
  }, 420_000);
});
