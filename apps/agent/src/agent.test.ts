import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKey } from '@modelfleet/signing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgent, type CheckOutcome } from './agent.js';
import { parseAgentConfig } from './config.js';
import { runDaemon } from './daemon.js';
import { checkReleaseFolder, linkedSha256 } from './install.js';
import { silentLogger } from './log.js';
import { readStatus } from './status.js';
import {
  demoBundle,
  nanBundle,
  signedAnswer,
  startFakeDeviceServer,
  type FakeDeviceServer,
  type TestBundle,
} from './testing/index.js';

const key = generateSigningKey();
const first = demoBundle('base');
const second = demoBundle('head');

describe('agent against a device API', () => {
  let server: FakeDeviceServer;
  let dataDir = '';
  const makeAgent = (extra: Record<string, string> = {}) =>
    createAgent({
      config: parseAgentConfig({
        flags: {
          server: server.url,
          'data-dir': dataDir,
          'public-key': key.publicKeyBase64,
          'device-id': 'pi-7',
          'enrollment-token': 'mfe_test',
          'backoff-base-seconds': '0.02',
          'backoff-cap-seconds': '0.1',
          'min-poll-seconds': '0.01',
          ...extra,
        },
        env: {},
      }),
      log: silentLogger,
    });
  /** The daemon's configuration: this test's server and data folder, a 20 ms backoff base. */
  const daemonConfig = (extra: Record<string, string>) =>
    parseAgentConfig({
      flags: {
        server: server.url,
        'data-dir': dataDir,
        'public-key': key.publicKeyBase64,
        'backoff-base-seconds': '0.02',
        ...extra,
      },
      env: {},
    });
  const publish = (bundle: TestBundle, release: number, options: Partial<Parameters<typeof signedAnswer>[0]> = {}) => {
    server.blobs.set(bundle.sha256, bundle.bytes);
    server.answer = signedAnswer({ key, bundle, release, ...options });
  };
  const states = () => server.reports.map((report) => `${report.state}:${report.release ?? '-'}`);

  beforeAll(async () => {
    server = await startFakeDeviceServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-'));
    server.answer = null;
    server.reports = [];
    server.down = false;
    server.retryAfter = null;
    server.blobBytesSent = 0;
  });

  it('enrols once (token stored 0600), installs a release, then a second one, reporting each step', async () => {
    const agent = makeAgent();
    expect(await agent.checkForUpdate()).toEqual({ kind: 'no-release' });
    const device = await fs.stat(path.join(dataDir, 'device.json'));
    expect(device.mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(path.join(dataDir, 'device.json'), 'utf8'))).toMatchObject({
      deviceToken: 'mfd_fake_1_pi-7',
      line: 'sorter',
    });

    publish(first, 1);
    const installed = await agent.checkForUpdate();
    expect(installed).toMatchObject({ kind: 'installed', release: 1, sha256: first.sha256, bytesFetched: first.size });
    expect(states()).toEqual(['downloading:1', 'downloaded:1', 'installed:1']);
    const report = server.reports.at(-1)!;
    expect(report.smokeLatencyMs).toBeGreaterThan(0);
    expect(report.download).toEqual({ kind: 'full', bytes: first.size });
    expect(new Set(server.reports.map((r) => r.idempotencyKey)).size).toBe(3);

    // nothing new: 304 on the ETag, no download
    const sent = server.blobBytesSent;
    expect(await agent.checkForUpdate()).toEqual({ kind: 'up-to-date', release: 1 });
    expect(server.blobBytesSent).toBe(sent);

    publish(second, 2);
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'installed', release: 2 });
    const status = await readStatus(dataDir);
    expect(status.current).toMatchObject({ release: 2, sha256: second.sha256 });
    expect(status.previous).toMatchObject({ release: 1, sha256: first.sha256 });
    expect(status.lastError).toBeNull();
    // a restarted agent (new process) uses the stored token, no second enrolment
    expect(await makeAgent({ 'enrollment-token': '' }).checkForUpdate()).toEqual({ kind: 'up-to-date', release: 2 });
  });

  it('refuses bad signature, lower release and expired offers; reports failed; keeps the old model', async () => {
    const agent = makeAgent();
    publish(second, 5);
    await agent.checkForUpdate();
    const other = generateSigningKey();
    const cases: [string, () => void][] = [
      ['manifest-signature', () => publish(first, 6, { manifestKey: other })],
      ['rollback', () => publish(first, 4)],
      ['expired', () => publish(first, 6, { validForSeconds: -3600 })],
    ];
    for (const [rule, serve] of cases) {
      server.reports = [];
      serve();
      const outcome = await agent.checkForUpdate();
      expect(outcome.kind).toBe('refused');
      expect((outcome as Extract<CheckOutcome, { kind: 'refused' }>).reason).toContain(rule);
      expect(states()).toEqual([`failed:${server.answer!.offer.signed.release}`]);
      expect(server.reports[0]!.error).toContain(rule);
      expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(second.sha256);
    }
    expect((await readStatus(dataDir)).lastError?.code).toBe('MF_ERR_UPDATE_REFUSED');
  });

  it('a corrupted blob is refused (failed reported, old model kept); a smoke failure is rolled back and not retried', async () => {
    const agent = makeAgent();
    publish(first, 1);
    await agent.checkForUpdate();
    publish(second, 2);
    const corrupted = Buffer.from(second.bytes);
    corrupted[corrupted.length - 10] = corrupted[corrupted.length - 10]! ^ 0xff;
    server.blobs.set(second.sha256, corrupted);
    server.reports = [];
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'failed', release: 2 });
    expect(states()).toEqual(['downloading:2', 'failed:2']);
    expect(server.reports[1]!.error).toMatch(/sha256/);
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(first.sha256);
    await checkReleaseFolder(path.join(dataDir, 'releases', first.sha256));

    const broken = nanBundle();
    publish(broken, 3);
    server.reports = [];
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'rolled-back', release: 3 });
    expect(states()).toEqual(['downloading:3', 'downloaded:3', 'rolled-back:3']);
    expect(server.reports[2]!.error).toMatch(/NaN/);
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(first.sha256);
    expect(await fs.readdir(path.join(dataDir, 'releases'))).toEqual([first.sha256]);
    // offered again: not downloaded again, not reported again
    const sent = server.blobBytesSent;
    expect(await makeAgent().checkForUpdate()).toEqual({ kind: 'up-to-date', release: 1 });
    expect(server.blobBytesSent).toBe(sent);
    expect(server.reports).toHaveLength(3);
  });

  it('keeps reports in the outbox while the server is down and sends each once later', async () => {
    const agent = makeAgent();
    publish(first, 1);
    await agent.checkForUpdate();
    // the reports endpoint fails while a new release is installed: simulate with the server going down after
    // the download (the blob is fetched, then every report is refused with 503)
    publish(second, 2);
    const realFetch = globalThis.fetch;
    const downAfterBlob = createAgent({
      config: parseAgentConfig({
        flags: { server: server.url, 'data-dir': dataDir, 'public-key': key.publicKeyBase64, 'device-id': 'pi-7' },
        env: {},
      }),
      log: silentLogger,
      fetch: async (input, init) => {
        const url = String(input);
        if (url.endsWith('/v1/device/reports')) return new Response('{}', { status: 503 });
        return realFetch(input, init);
      },
    });
    server.reports = [];
    expect(await downAfterBlob.checkForUpdate()).toMatchObject({ kind: 'installed', release: 2 });
    expect(server.reports).toEqual([]);
    const pending = await downAfterBlob.outbox.pending();
    expect(pending.map((r) => r.state)).toEqual(['downloading', 'downloaded', 'installed']);
    expect((await readStatus(dataDir)).pendingReports).toBe(3);
    // the server is back: the next round sends them, in order, once
    await makeAgent().checkForUpdate();
    expect(states()).toEqual(['downloading:2', 'downloaded:2', 'installed:2']);
    expect(server.reports.map((r) => r.idempotencyKey)).toEqual(pending.map((r) => r.idempotencyKey));
    expect(await downAfterBlob.outbox.pending()).toEqual([]);
  });

  it('runDaemon backs off while the server is down, recovers, and stops on abort', async () => {
    const agent = makeAgent();
    server.down = true;
    const controller = new AbortController();
    const rounds: { kind: string; delayMs: number }[] = [];
    const daemon = runDaemon({
      agent,
      config: daemonConfig({ 'backoff-cap-seconds': '0.1', 'min-poll-seconds': '0.01' }),
      log: silentLogger,
      signal: controller.signal,
      random: () => 1,
      onRound: ({ outcome, error, delayMs }) => {
        rounds.push({ kind: error !== null ? 'error' : outcome!.kind, delayMs });
        if (rounds.length === 5) {
          publish(first, 1);
          server.down = false;
        }
        if (outcome?.kind === 'installed') controller.abort();
      },
    });
    await daemon;
    expect(rounds.slice(0, 5).map((r) => r.kind)).toEqual(['error', 'error', 'error', 'error', 'error']);
    // exponential, capped at 100 ms (random = 1 picks the ceiling)
    expect(rounds.slice(0, 5).map((r) => r.delayMs)).toEqual([20, 40, 80, 100, 100]);
    expect(rounds.at(-1)!.kind).toBe('installed');
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(first.sha256);
  });

  it("runDaemon waits at least the server's Retry-After after a 503 that carries one", async () => {
    const agent = makeAgent();
    server.down = true;
    server.retryAfter = '3';
    const controller = new AbortController();
    const rounds: { error: unknown; delayMs: number }[] = [];
    await runDaemon({
      agent,
      config: daemonConfig({ 'backoff-cap-seconds': '60' }),
      log: silentLogger,
      signal: controller.signal,
      random: () => 0,
      onRound: (round) => {
        rounds.push(round);
        controller.abort(); // the sleep ends at once on abort; the delay it would have waited is what counts
      },
    });
    expect(rounds).toHaveLength(1);
    expect(rounds[0]!.error).toMatchObject({ code: 'MF_ERR_SERVER_UNAVAILABLE', details: { retryAfterSeconds: 3 } });
    // The plain backoff would have been 10 ms (random = 0); the server asked for 3 s.
    expect(rounds[0]!.delayMs).toBe(3_000);
  });

  it('an abort (SIGTERM) mid-download ends the daemon cleanly; the partial file stays and is resumed', async () => {
    publish(first, 1);
    const controller = new AbortController();
    let aborted = false;
    const agent = createAgent({
      config: parseAgentConfig({
        flags: {
          server: server.url,
          'data-dir': dataDir,
          'public-key': key.publicKeyBase64,
          'enrollment-token': 'mfe_test',
        },
        env: {},
      }),
      log: silentLogger,
      onDownloadProgress: (bytes) => {
        if (bytes >= 100_000 && !aborted) {
          aborted = true;
          controller.abort();
        }
      },
    });
    const config = parseAgentConfig({
      flags: { server: server.url, 'data-dir': dataDir, 'public-key': key.publicKeyBase64 },
      env: {},
    });
    await runDaemon({ agent, config, log: silentLogger, signal: controller.signal });
    const part = path.join(dataDir, 'downloads', `${first.sha256}.part`);
    const onDisk = (await fs.stat(part)).size;
    expect(onDisk).toBeGreaterThanOrEqual(100_000);
    expect(onDisk).toBeLessThan(first.size);
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBeNull();
    const sent = server.blobBytesSent;
    expect(await makeAgent().checkForUpdate()).toMatchObject({
      kind: 'installed',
      release: 1,
      bytesFetched: first.size - onDisk,
    });
    expect(server.blobBytesSent - sent).toBe(first.size - onDisk);
  });
});
