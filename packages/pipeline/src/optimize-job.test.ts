import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VARIANTS } from '@modelfleet/contracts';
import { candidateSet } from '@modelfleet/quantize';
import { encodeDataset, generateSynthetic, SYNTHETIC_CLASS_NAMES } from '@modelfleet/datasets';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { loadDemoModelFiles } from '@modelfleet/demo-models';
import { createInProcessQueue, createJobCatalog, waitForJob, type JobQueue } from '@modelfleet/jobs';
import { generateSigningKey } from '@modelfleet/signing';
import { createFsBlobStore, type BlobStore } from '@modelfleet/storage';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimizeJob } from './index.js';

const createCatalog = () => createJobCatalog([optimizeJob]);

describe('the optimize job', () => {
  let test: TestDatabase;
  let blobRoot: string;
  let blobs: BlobStore;
  let queue: JobQueue<ReturnType<typeof createCatalog>>;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    blobRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-optimize-'));
    blobs = await createFsBlobStore({ root: blobRoot });
    queue = createInProcessQueue(createCatalog(), {
      services: { db: test.db, blobs, signingKey: generateSigningKey() },
      logger: pino({ enabled: false }),
      cpu: { size: 1 },
    });
  }, 60_000);
  afterAll(async () => {
    await queue.close();
    await test.cleanup();
    await fs.rm(blobRoot, { recursive: true, force: true });
  });

  /** A line with a small, quick policy; a test set of synthetic images; the demo model uploaded as blobs. */
  async function prepare(name: string, options: { withTestSet: boolean; corruptShard?: boolean }) {
    const { prisma } = test.db;
    const line = await prisma.modelLine.create({
      data: {
        name,
        preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: [...SYNTHETIC_CLASS_NAMES] },
        policy: {
          variants: ['theta4', 'int8-per-channel'],
          weights: { size: 1, latency: 1, accuracy: 1 },
          constraints: { maxAccuracyDropPoints: 1 },
          autoPublish: true,
          channel: 'stable',
          latencyRuns: 5,
        },
      },
    });
    if (options.withTestSet) {
      const bytes = encodeDataset(generateSynthetic({ seed: 7, count: 25, size: 64 }));
      const stored = await blobs.put(bytes);
      await prisma.dataset.create({
        data: {
          lineId: line.id,
          role: 'test',
          blobSha256: stored.sha256,
          sampleCount: 25,
          classNames: [...SYNTHETIC_CLASS_NAMES],
          classCounts: {},
        },
      });
    }
    const files = loadDemoModelFiles('mobilenet-v1-025-64');
    const shard = new Uint8Array(files.get('group1-shard1of1.bin')!);
    if (options.corruptShard === true) new DataView(shard.buffer).setFloat32(0, Number.NaN, true);
    const modelJson = await blobs.put(files.get('model.json')!);
    const weights = await blobs.put(shard);
    const version = await prisma.modelVersion.create({
      data: {
        lineId: line.id,
        modelJsonSha256: modelJson.sha256,
        weightShardSha256s: [weights.sha256],
        sourceBytes: shard.length,
      },
    });
    return { line, version };
  }

  it('stores a measured candidate per variant, selects and publishes once, and a duplicate run changes nothing', async () => {
    const { line, version } = await prepare('idempotent', { withTestSet: true });
    const first = await waitForJob(
      queue,
      (await queue.enqueue('optimize', { versionId: version.id }, { jobId: 'opt-a' })).jobId,
      { timeoutMs: 240_000 },
    );
    expect(first.state, first.failedReason).toBe('completed');

    const { prisma } = test.db;
    const candidates = await prisma.candidate.findMany({
      where: { versionId: version.id },
      orderBy: { variant: 'asc' },
    });
    expect(candidates.map((candidate) => candidate.variant)).toEqual(['int8-per-channel', 'theta0', 'theta4']);
    for (const candidate of candidates) {
      expect(await blobs.exists(candidate.artifactSha256)).toBe(true);
      expect((await blobs.stat(candidate.artifactSha256))?.size).toBe(candidate.fileBytes);
      expect(candidate.latencyMedianMs).toBeGreaterThan(0);
    }
    const ready = await prisma.modelVersion.findUniqueOrThrow({ where: { id: version.id } });
    expect(ready).toMatchObject({ status: 'ready', progressPercent: 100 });
    expect(candidates.some((candidate) => candidate.id === ready.winnerCandidateId)).toBe(true);
    expect(await prisma.release.count({ where: { lineId: line.id } })).toBe(1);

    // The same work again (a retried or duplicated job): same content addresses, no new rows, no second release.
    const second = await waitForJob(
      queue,
      (await queue.enqueue('optimize', { versionId: version.id }, { jobId: 'opt-b' })).jobId,
      { timeoutMs: 240_000 },
    );
    expect(second.state, second.failedReason).toBe('completed');
    const again = await prisma.candidate.findMany({ where: { versionId: version.id }, orderBy: { variant: 'asc' } });
    expect(again.map((candidate) => [candidate.id, candidate.artifactSha256])).toEqual(
      candidates.map((candidate) => [candidate.id, candidate.artifactSha256]),
    );
    expect(await prisma.release.count({ where: { lineId: line.id } })).toBe(1);
  }, 600_000);

  it('fails an invalid model at once, without retries, and records why on the version', async () => {
    const { version } = await prepare('nan-weights', { withTestSet: true, corruptShard: true });
    const job = await waitForJob(queue, (await queue.enqueue('optimize', { versionId: version.id })).jobId, {
      timeoutMs: 120_000,
    });
    expect(job.state).toBe('failed');
    expect(job.failedCode).toBe('MF_ERR_WEIGHTS_NOT_FINITE');
    expect(job.attemptsMade).toBe(1);
    const failed = await test.db.prisma.modelVersion.findUniqueOrThrow({ where: { id: version.id } });
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'MF_ERR_WEIGHTS_NOT_FINITE' });
    expect(await test.db.prisma.candidate.count({ where: { versionId: version.id } })).toBe(0);
  }, 120_000);

  it('fails a version whose line has no test set, naming what is missing', async () => {
    const { version } = await prepare('no-test-set', { withTestSet: false });
    const job = await waitForJob(queue, (await queue.enqueue('optimize', { versionId: version.id })).jobId, {
      timeoutMs: 60_000,
    });
    expect(job.state).toBe('failed');
    expect(job.failedCode).toBe('MF_ERR_DATASET_MISSING');
    expect(job.attemptsMade).toBe(1);
    const failed = await test.db.prisma.modelVersion.findUniqueOrThrow({ where: { id: version.id } });
    expect(failed.errorCode).toBe('MF_ERR_DATASET_MISSING');
  }, 60_000);
});

describe('the policy vocabulary', () => {
  it('names exactly the quantize package candidate set, so a default policy never asks for an unknown variant', () => {
    expect([...VARIANTS].sort()).toEqual(candidateSet.map((candidate) => candidate.id).sort());
  });
});
