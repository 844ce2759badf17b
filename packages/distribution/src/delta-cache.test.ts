import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  insertReadyCandidate,
  postgresTestAvailability,
  type TestDatabase,
} from '@modelfleet/db/testing';
import { applyDelta } from '@modelfleet/delta';
import { loadDemoModelFiles } from '@modelfleet/demo-models';
import { createCpuPool, type CpuPool } from '@modelfleet/jobs';
import { encodeBundle, readArtifact, sha256Hex } from '@modelfleet/model-format';
import { createFsBlobStore, readBlobBytes, type BlobStore } from '@modelfleet/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeltaCache,
  createPooledDeltaCodec,
  DELTA_FORMAT_NAME,
  NOT_SMALLER_MARKER,
  precomputeDeltas,
  pruneDeltas,
  type DeltaCacheOptions,
  type DeltaCodec,
} from './index.js';

const postgres = await postgresTestAvailability();
/** Lower brotli qualities: a full fine-tune encodes in ~2.5 s instead of ~16 s here, 0.5 % larger. */
const FAST = { quality: 9, selectionQuality: 5 };

const bundleOf = (name: Parameters<typeof loadDemoModelFiles>[0]) =>
  encodeBundle(readArtifact(loadDemoModelFiles(name)));
const base = bundleOf('mobilenet-v1-025-64');
const finetune = bundleOf('mobilenet-v1-025-64-finetune');
const head = bundleOf('mobilenet-v1-025-64-head');
/** The base's recipe retrained from another seed: no tensor in common with the base. */
const scratch = bundleOf('mobilenet-v1-025-64-scratch');

/** Counts the encodings that really ran (the cache's own counter is what is under test). */
function countingCodec(inner: DeltaCodec): DeltaCodec & { calls: number } {
  const codec = {
    format: inner.format,
    formatVersion: inner.formatVersion,
    calls: 0,
    encode(oldBundle: Uint8Array, newBundle: Uint8Array) {
      codec.calls += 1;
      return inner.encode(oldBundle, newBundle);
    },
  };
  return codec;
}

describe.each([
  { kind: 'pglite' as const, run: true },
  { kind: 'postgres' as const, run: postgres.available || postgres.required },
])('delta cache on $kind', ({ kind, run }) => {
  if (!run) {
    it.skip(`needs PostgreSQL: ${postgres.reason ?? ''}`, () => undefined);
    return;
  }
  let test: TestDatabase;
  let blobs: BlobStore;
  let root = '';
  let pool: CpuPool;
  let sha: { base: string; finetune: string; head: string; scratch: string; junk: string };

  const cacheWith = (codec: DeltaCodec, extra: Partial<DeltaCacheOptions> = {}) =>
    createDeltaCache({ db: test.db, blobs, codec, maxRatio: 0.8, ...extra });

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-deltas-'));
    blobs = await createFsBlobStore({ root });
    pool = createCpuPool({ size: 1 });
    const register = async (bytes: Uint8Array) => {
      const put = await blobs.put(bytes);
      await test.db.prisma.blob.create({ data: { sha256: put.sha256, size: put.size, kind: 'artifact' } });
      return put.sha256;
    };
    sha = {
      base: await register(base),
      finetune: await register(finetune),
      head: await register(head),
      scratch: await register(scratch),
      // Registered as an artifact, but not a model bundle: the encoder refuses it.
      junk: await register(new Uint8Array(randomBytes(5000))),
    };
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await test?.cleanup();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('computes a pair once for concurrent requests, stores blob and row, and the delta rebuilds the target', async () => {
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    const cache = cacheWith(codec);
    expect(cache.peek(sha.base, sha.head)).toBeUndefined();
    const answers = await Promise.all(Array.from({ length: 6 }, () => cache.deltaFor(sha.base, sha.head)));
    expect(codec.calls).toBe(1);
    expect(cache.stats.computed).toBe(1);
    const delta = answers[0]!;
    expect(answers.every((answer) => answer === delta)).toBe(true);
    expect(delta).toMatchObject({ from: sha.base, to: sha.head, format: DELTA_FORMAT_NAME });
    // A head-only retrain: the delta is a small fraction of the full file.
    expect(delta.size).toBeLessThan(head.length * 0.2);

    const stored = await readBlobBytes(blobs, delta.sha256);
    expect(sha256Hex(stored)).toBe(delta.sha256);
    expect(sha256Hex(applyDelta(base, stored))).toBe(sha.head);
    const rows = await test.db.prisma.artifactDelta.findMany({ where: { fromSha256: sha.base, toSha256: sha.head } });
    expect(rows).toEqual([expect.objectContaining({ deltaSha256: delta.sha256, deltaBytes: delta.size })]);
    expect(await test.db.prisma.blob.findUnique({ where: { sha256: delta.sha256 } })).toMatchObject({ kind: 'delta' });

    // Warm: answered from memory, synchronously.
    expect(cache.peek(sha.base, sha.head)).toBe(delta);
    await cache.deltaFor(sha.base, sha.head);
    expect(codec.calls).toBe(1);
  }, 60_000);

  it('reads a pair another process computed from the table instead of computing it again', async () => {
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    const other = cacheWith(codec);
    const delta = await other.deltaFor(sha.base, sha.head);
    expect(delta?.sha256).toBeDefined();
    expect(codec.calls).toBe(0);
    expect(other.stats).toMatchObject({ computed: 0, loaded: 1 });
  });

  it('two processes racing on a new pair store one row and answer the same delta', async () => {
    const first = countingCodec(createPooledDeltaCodec(pool, FAST));
    const second = countingCodec(createPooledDeltaCodec(pool, FAST));
    const [a, b] = await Promise.all([
      cacheWith(first).deltaFor(sha.base, sha.finetune),
      cacheWith(second).deltaFor(sha.base, sha.finetune),
    ]);
    expect(a).not.toBeNull();
    expect(b).toEqual(a);
    expect(await test.db.prisma.artifactDelta.count({ where: { fromSha256: sha.base, toSha256: sha.finetune } })).toBe(
      1,
    );
    expect(sha256Hex(applyDelta(base, await readBlobBytes(blobs, a!.sha256)))).toBe(sha.finetune);
  }, 60_000);

  it('remembers a pair whose delta is not clearly smaller (row without blob) and offers no delta: a retrain from scratch', async () => {
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    // The default threshold (a delta at most 80 % of the full file); a retrain from scratch shares nothing.
    const cache = cacheWith(codec);
    expect(await cache.decide(sha.base, sha.scratch)).toEqual({ kind: 'none', reason: 'not-smaller' });
    expect(codec.calls).toBe(1);
    const row = await test.db.prisma.artifactDelta.findUniqueOrThrow({
      where: { fromSha256_toSha256: { fromSha256: sha.base, toSha256: sha.scratch } },
    });
    expect(row.deltaSha256).toBe(NOT_SMALLER_MARKER);
    expect(row.deltaBytes).toBeGreaterThan(scratch.length * 0.8);
    expect(cache.peek(sha.base, sha.scratch)).toBeNull();
    expect(await cache.deltaFor(sha.base, sha.scratch)).toBeNull();
    // Another process does not recompute it either.
    const again = countingCodec(createPooledDeltaCodec(pool, FAST));
    expect(await cacheWith(again).deltaFor(sha.base, sha.scratch)).toBeNull();
    expect(again.calls).toBe(0);
    // The same cache offers the fine-tune of the same base: the decision is about the pair.
    expect((await cache.decide(sha.base, sha.finetune)).kind).toBe('delta');
  }, 60_000);

  it('answers null for a source the server does not have, for the target itself, and for what cannot be encoded', async () => {
    let now = 1_000_000;
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    const cache = cacheWith(codec, { now: () => now, retryAfterMs: 60_000 });
    expect(await cache.decide('e'.repeat(64), sha.head)).toEqual({ kind: 'none', reason: 'unknown-source' });
    expect(await cache.decide(sha.head, sha.head)).toEqual({ kind: 'none', reason: 'same' });
    expect(await cache.decide(sha.junk, sha.head)).toEqual({ kind: 'none', reason: 'failed' });
    expect(codec.calls).toBe(1);
    expect(cache.stats.failed).toBe(1);
    expect(await test.db.prisma.artifactDelta.count({ where: { fromSha256: sha.junk } })).toBe(0);
    // A failure is remembered for a while, then tried again.
    expect(await cache.deltaFor(sha.junk, sha.head)).toBeNull();
    expect(codec.calls).toBe(1);
    now += 60_001;
    expect(cache.peek(sha.junk, sha.head)).toBeUndefined();
    expect(await cache.deltaFor(sha.junk, sha.head)).toBeNull();
    expect(codec.calls).toBe(2);
  }, 60_000);

  it('precomputes deltas to a release from the artifacts its channel’s devices run', async () => {
    const { prisma } = test.db;
    const line = await prisma.modelLine.create({
      data: {
        name: `sorter-${kind}`,
        preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['a', 'b'] },
        policy: {},
      },
    });
    const channel = await prisma.channel.create({ data: { lineId: line.id, name: 'stable' } });
    const candidate = await insertReadyCandidate(prisma, {
      lineId: line.id,
      artifact: { sha256: sha.finetune, size: finetune.length },
      variant: 'theta0',
      encoding: 'float32',
    });
    const release = await prisma.release.create({
      data: {
        lineId: line.id,
        channelId: channel.id,
        number: 1,
        candidateId: candidate.id,
        artifactSha256: sha.finetune,
        artifactBytes: finetune.length,
        manifest: {},
        signature: 'x',
        keyId: 'k',
      },
    });
    const device = (id: string, current: string | null, extra: object = {}) => ({
      deviceId: `${kind}-${id}`,
      tokenHash: randomBytes(16).toString('hex'),
      tags: [],
      channelId: channel.id,
      currentArtifactSha256: current,
      ...extra,
    });
    await prisma.device.createMany({
      data: [
        device('a', sha.head),
        device('b', sha.head),
        device('c', sha.base),
        device('d', sha.finetune), // runs the target already
        device('e', null), // no model yet
        device('f', sha.junk, { revokedAt: new Date() }), // revoked: not part of the fleet
      ],
    });
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    const cache = cacheWith(codec);
    const result = await precomputeDeltas(test.db, cache, release.id);
    expect(result).toMatchObject({ releaseId: release.id, target: sha.finetune, targetBytes: finetune.length });
    expect(result.pairs.map((pair) => [pair.from, pair.devices])).toEqual([
      [sha.head, 2],
      [sha.base, 1],
    ]);
    expect(result.pairs.every((pair) => pair.delta !== null && pair.delta.size < finetune.length * 0.8)).toBe(true);
    // head -> finetune had a "not smaller" row under the strict threshold above: recomputed under 0.8 and offered.
    expect(codec.calls).toBe(1);
    const row = await prisma.artifactDelta.findUniqueOrThrow({
      where: { fromSha256_toSha256: { fromSha256: sha.head, toSha256: sha.finetune } },
    });
    expect(row.deltaSha256).toBe(result.pairs[0]!.delta!.sha256);
    // Run again (a retried job): everything read from the table.
    const again = await precomputeDeltas(
      test.db,
      cacheWith(countingCodec(createPooledDeltaCodec(pool, FAST))),
      release.id,
    );
    expect(again.pairs).toEqual(result.pairs.map((pair) => ({ ...pair })));
    await expect(precomputeDeltas(test.db, cache, '00000000-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'MF_ERR_PRECOMPUTE_RELEASE_MISSING',
    });
  }, 60_000);

  it('prunes the deltas no device can be offered (old enough), keeps the live target’s, and a pruned pair is computed again', async () => {
    const { prisma } = test.db;
    // The release above made fine-tune the channel's release: deltas to it are live; to head and to scratch not.
    const pairs = async () =>
      (await prisma.artifactDelta.findMany({ select: { fromSha256: true, toSha256: true, deltaSha256: true } })).map(
        (row) => `${row.fromSha256.slice(0, 6)}>${row.toSha256.slice(0, 6)}`,
      );
    const before = await prisma.artifactDelta.findMany();
    const toHead = before.find((row) => row.fromSha256 === sha.base && row.toSha256 === sha.head)!;
    expect(before.some((row) => row.toSha256 === sha.scratch)).toBe(true);
    expect(await blobs.exists(toHead.deltaSha256)).toBe(true);

    // Younger than the keep period: nothing goes, whatever its target.
    expect(await pruneDeltas(test.db, blobs)).toEqual({ liveTargets: 1, rows: 0, blobs: 0, bytes: 0 });
    expect(await prisma.artifactDelta.count()).toBe(before.length);

    const dayLater = new Date(Date.now() + 25 * 3600 * 1000);
    // A staged release of head (a rollout's, not the channel's) that one device is pinned to: head is live.
    const channel = await prisma.channel.findFirstOrThrow({ where: { line: { name: `sorter-${kind}` } } });
    const staged = await prisma.release.create({
      data: {
        lineId: channel.lineId,
        channelId: channel.id,
        number: 2,
        candidateId: (await prisma.candidate.findFirstOrThrow({ where: { artifactSha256: sha.finetune } })).id,
        artifactSha256: sha.head,
        artifactBytes: head.length,
        manifest: {},
        signature: 'x',
        keyId: 'k',
        staged: true,
      },
    });
    await prisma.device.update({ where: { deviceId: `${kind}-e` }, data: { pinnedReleaseId: staged.id } });
    const whilePinned = await pruneDeltas(test.db, blobs, { now: dayLater });
    expect(whilePinned).toMatchObject({
      liveTargets: 2,
      rows: before.filter((row) => row.toSha256 === sha.scratch).length,
    });
    expect(await prisma.artifactDelta.count({ where: { toSha256: sha.head } })).toBeGreaterThan(0);
    expect(await blobs.exists(toHead.deltaSha256)).toBe(true);
    // Unpinned, the staged release is nobody's: deltas to head go too.
    await prisma.device.update({ where: { deviceId: `${kind}-e` }, data: { pinnedReleaseId: null } });
    const pruned = await pruneDeltas(test.db, blobs, { now: dayLater });
    const dead = before.filter((row) => row.toSha256 === sha.head);
    const deadBlobs = new Set(dead.map((row) => row.deltaSha256).filter((sha256) => sha256 !== NOT_SMALLER_MARKER));
    expect(pruned).toMatchObject({ liveTargets: 1, rows: dead.length, blobs: deadBlobs.size });
    expect(deadBlobs.has(toHead.deltaSha256)).toBe(true);
    expect(pruned.bytes).toBe(
      [...deadBlobs].reduce((sum, sha256) => sum + before.find((row) => row.deltaSha256 === sha256)!.deltaBytes, 0),
    );
    expect(await pairs()).toEqual(
      before
        .filter((row) => row.toSha256 === sha.finetune)
        .map((row) => `${row.fromSha256.slice(0, 6)}>${row.toSha256.slice(0, 6)}`),
    );
    // The live target's deltas keep their blobs; the pruned ones are gone, row and file.
    for (const row of before.filter((row) => row.toSha256 === sha.finetune && row.deltaSha256 !== NOT_SMALLER_MARKER))
      expect(await blobs.exists(row.deltaSha256)).toBe(true);
    expect(await blobs.exists(toHead.deltaSha256)).toBe(false);
    expect(await prisma.blob.findUnique({ where: { sha256: toHead.deltaSha256 } })).toBeNull();
    // Artifacts are never touched.
    expect(await prisma.blob.count({ where: { kind: 'artifact' } })).toBe(5);
    expect(await pruneDeltas(test.db, blobs, { now: dayLater })).toMatchObject({ rows: 0, blobs: 0 });

    // A target that becomes current again (a rollback republishes it) gets its delta computed anew.
    const codec = countingCodec(createPooledDeltaCodec(pool, FAST));
    const again = await cacheWith(codec).deltaFor(sha.base, sha.head);
    expect(codec.calls).toBe(1);
    expect(again?.sha256).toBe(toHead.deltaSha256);
    expect(sha256Hex(applyDelta(base, await readBlobBytes(blobs, again!.sha256)))).toBe(sha.head);
  }, 60_000);

  it('remembers a stored delta for a while only, then reads the table again (its blob may have been pruned)', async () => {
    let now = 5_000_000;
    const cache = cacheWith(countingCodec(createPooledDeltaCodec(pool, FAST)), {
      now: () => now,
      rememberDeltaMs: 60_000,
    });
    const delta = await cache.deltaFor(sha.base, sha.head);
    expect(cache.peek(sha.base, sha.head)).toBe(delta);
    now += 60_001;
    expect(cache.peek(sha.base, sha.head)).toBeUndefined();
    expect(await cache.deltaFor(sha.base, sha.head)).toEqual(delta);
    expect(cache.stats).toMatchObject({ computed: 0, loaded: 2 });
  }, 60_000);
});
