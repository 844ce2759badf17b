import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeDelta } from '@modelfleet/delta';
import { generateSigningKey } from '@modelfleet/signing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgent } from './agent.js';
import { parseAgentConfig } from './config.js';
import { checkReleaseFolder, linkedSha256, releaseFolder } from './install.js';
import { RELEASE_FILES } from './layout.js';
import { silentLogger } from './log.js';
import {
  deltaSlot,
  demoBundle,
  signedAnswer,
  startFakeDeviceServer,
  type FakeDeviceServer,
  type TestBundle,
} from './testing/index.js';

const key = generateSigningKey();
const base = demoBundle('base');
const head = demoBundle('head');
const finetune = demoBundle('finetune');
/** The delta the server would offer from base to the head-only retrain (a few KB of an 880 KB model). */
const goodDelta = encodeDelta(base.bytes, head.bytes, { quality: 9, selectionQuality: 5 }).bytes;

/**
 * Issue 6 on the device: an offered delta from the installed artifact is downloaded, applied to the installed
 * bundle and verified like a full download; every failure (missing, corrupted, other base, tampered install)
 * falls back to the full artifact in the same update, and the reports say which path was taken and what it cost.
 */
describe('agent: updates by delta, with fallback to the full artifact', () => {
  let server: FakeDeviceServer;
  let dataDir = '';
  const makeAgent = () =>
    createAgent({
      config: parseAgentConfig({
        flags: {
          server: server.url,
          'data-dir': dataDir,
          'public-key': key.publicKeyBase64,
          'device-id': 'pi-delta',
          'enrollment-token': 'mfe_test',
          'backoff-base-seconds': '0.02',
          'backoff-cap-seconds': '0.1',
          'min-poll-seconds': '0.01',
        },
        env: {},
      }),
      log: silentLogger,
    });
  const publish = (bundle: TestBundle, release: number, delta?: { from: string; bytes: Uint8Array }) => {
    server.blobs.set(bundle.sha256, bundle.bytes);
    if (delta !== undefined) server.blobs.set(deltaSlot(delta.from, delta.bytes).sha256, delta.bytes);
    server.answer = signedAnswer({
      key,
      bundle,
      release,
      ...(delta === undefined ? {} : { delta: deltaSlot(delta.from, delta.bytes) }),
    });
  };
  /** Device on release 1 (base), installed the ordinary way; counters reset afterwards. */
  const onBase = async () => {
    const agent = makeAgent();
    publish(base, 1);
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'installed', release: 1, path: 'full' });
    server.reports = [];
    server.blobBytesSent = 0;
    server.ranges = [];
    return agent;
  };
  const reportsOf = (state: string) => server.reports.filter((report) => report.state === state);
  const expectOnTarget = async (bundle: TestBundle) => {
    expect(await linkedSha256(path.join(dataDir, 'current'))).toBe(bundle.sha256);
    expect((await checkReleaseFolder(path.join(dataDir, 'current'))).sha256).toBe(bundle.sha256);
  };

  beforeAll(async () => {
    server = await startFakeDeviceServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-delta-'));
    server.answer = null;
    server.reports = [];
    server.blobs.clear();
    server.blobBytesSent = 0;
    server.ranges = [];
  });

  it('downloads only the delta, rebuilds the target from the installed bundle, installs it and reports kind delta', async () => {
    const agent = await onBase();
    publish(head, 2, { from: base.sha256, bytes: goodDelta });
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', release: 2, sha256: head.sha256, path: 'delta' });
    expect(outcome).not.toHaveProperty('deltaFallback');
    expect(outcome).toMatchObject({ bytesFetched: goodDelta.length });
    expect(goodDelta.length).toBeLessThan(head.size / 20);
    // The full artifact never crossed the wire.
    expect(server.blobBytesSent).toBe(goodDelta.length);
    await expectOnTarget(head);
    expect(reportsOf('downloaded')).toEqual([
      expect.objectContaining({ release: 2, download: { kind: 'delta', bytes: goodDelta.length } }),
    ]);
    expect(reportsOf('installed')).toEqual([
      expect.objectContaining({ release: 2, download: { kind: 'delta', bytes: goodDelta.length } }),
    ]);
    expect(reportsOf('downloaded')[0]).not.toHaveProperty('error');
    // Nothing left in downloads (delta and rebuilt bundle both cleaned up).
    expect(await fs.readdir(path.join(dataDir, 'downloads'))).toEqual([]);
  }, 60_000);

  it('falls back to the full artifact when the delta is not on the server (404)', async () => {
    const agent = await onBase();
    publish(head, 2, { from: base.sha256, bytes: goodDelta });
    server.blobs.delete(deltaSlot(base.sha256, goodDelta).sha256);
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', release: 2, path: 'full', bytesFetched: head.size });
    expect((outcome as { deltaFallback: string }).deltaFallback).toMatch(
      /^delta download failed \(MF_ERR_DOWNLOAD_FAILED\): download failed: HTTP 404/,
    );
    await expectOnTarget(head);
    expect(reportsOf('installed')[0]!.download).toEqual({ kind: 'full', bytes: head.size });
    expect(reportsOf('downloaded')[0]).toMatchObject({
      download: { kind: 'full', bytes: head.size },
      error: expect.stringContaining('delta download failed'),
    });
  }, 60_000);

  it('falls back when the delta is corrupted in transit (sha256 of the download wrong), counting both downloads', async () => {
    const agent = await onBase();
    publish(head, 2, { from: base.sha256, bytes: goodDelta });
    const damaged = goodDelta.slice();
    damaged[damaged.length >> 1]! ^= 0xff;
    server.blobs.set(deltaSlot(base.sha256, goodDelta).sha256, damaged);
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', path: 'full', bytesFetched: goodDelta.length + head.size });
    expect((outcome as { deltaFallback: string }).deltaFallback).toContain('MF_ERR_DOWNLOAD_CORRUPT');
    expect(server.blobBytesSent).toBe(goodDelta.length + head.size);
    await expectOnTarget(head);
    expect(reportsOf('installed')[0]!.download).toEqual({ kind: 'full', bytes: goodDelta.length + head.size });
  }, 60_000);

  it('falls back when the delta itself is corrupt (its sha256 matches the offer, applying it fails)', async () => {
    const agent = await onBase();
    const garbage = goodDelta.slice(0, goodDelta.length - 40);
    publish(head, 2, { from: base.sha256, bytes: garbage });
    server.blobs.set(deltaSlot(base.sha256, garbage).sha256, garbage);
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', path: 'full', bytesFetched: garbage.length + head.size });
    expect((outcome as { deltaFallback: string }).deltaFallback).toMatch(
      /^delta apply failed \(MF_ERR_DELTA_CORRUPT\)/,
    );
    await expectOnTarget(head);
  }, 60_000);

  it('falls back when the delta was made for another base than the installed bundle', async () => {
    const agent = await onBase();
    const otherBase = encodeDelta(finetune.bytes, head.bytes, { quality: 9, selectionQuality: 5 }).bytes;
    publish(head, 2, { from: base.sha256, bytes: otherBase });
    server.blobs.set(deltaSlot(base.sha256, otherBase).sha256, otherBase);
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', path: 'full' });
    expect((outcome as { deltaFallback: string }).deltaFallback).toMatch(
      /^delta apply failed \(MF_ERR_DELTA_BASE_MISMATCH\)/,
    );
    await expectOnTarget(head);
    expect(reportsOf('installed')[0]!.download).toEqual({ kind: 'full', bytes: otherBase.length + head.size });
  }, 60_000);

  it('does not fetch a delta for a tampered installed bundle: full artifact, no delta bytes', async () => {
    const agent = await onBase();
    const installedBundle = path.join(releaseFolder(agent.layout, base.sha256), RELEASE_FILES.bundle);
    const bytes = await fs.readFile(installedBundle);
    bytes[100]! ^= 0x01;
    await fs.writeFile(installedBundle, bytes);
    publish(head, 2, { from: base.sha256, bytes: goodDelta });
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', path: 'full', bytesFetched: head.size });
    expect((outcome as { deltaFallback: string }).deltaFallback).toMatch(/^delta installed failed .*tampered/);
    expect(server.blobBytesSent).toBe(head.size);
    await expectOnTarget(head);
  }, 60_000);

  it('ignores a delta from another artifact than the installed one, and a delta offered to a device with no model', async () => {
    const agent = makeAgent();
    publish(head, 2, { from: base.sha256, bytes: goodDelta });
    expect(await agent.checkForUpdate()).toMatchObject({ kind: 'installed', path: 'full', bytesFetched: head.size });
    expect(server.ranges).toEqual([null]);
    publish(finetune, 3, { from: base.sha256, bytes: goodDelta });
    server.blobBytesSent = 0;
    const outcome = await agent.checkForUpdate();
    expect(outcome).toMatchObject({ kind: 'installed', release: 3, path: 'full', bytesFetched: finetune.size });
    expect(outcome).not.toHaveProperty('deltaFallback');
    expect(server.blobBytesSent).toBe(finetune.size);
  }, 60_000);
});
