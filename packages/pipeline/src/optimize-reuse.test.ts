import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeDataset } from '@modelfleet/datasets';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { createDemoDatasets, loadDemoModelFiles, readDemoManifest, shiftedDatasetSpec } from '@modelfleet/demo-models';
import { objectiveL } from '@modelfleet/evaluate';
import { createInProcessQueue, createJobCatalog, waitForJob, type JobQueue } from '@modelfleet/jobs';
import { decodeBundle } from '@modelfleet/model-format';
import { decisionsOf } from '@modelfleet/quantize';
import { publishRelease } from '@modelfleet/releases';
import { generateSigningKey } from '@modelfleet/signing';
import { createFsBlobStore, readBlobBytes, type BlobStore } from '@modelfleet/storage';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandidateDetails } from './optimize-task.js';
import { optimizeJob } from './index.js';

const createCatalog = () => createJobCatalog([optimizeJob]);

/**
 * A line whose channel runs a release of the demo base (int8 per-channel) on three devices gets the
 * full fine-tune successor: the delta-friendly twin is built from that release, reaches the fleet by a
 * smaller delta than the plain candidate, and stays within the accuracy constraint.
 */
describe('the optimize job on a line with a release', () => {
  let test: TestDatabase;
  let blobRoot: string;
  let blobs: BlobStore;
  let queue: JobQueue<ReturnType<typeof createCatalog>>;
  const signingKey = generateSigningKey();

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    blobRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-optimize-reuse-'));
    blobs = await createFsBlobStore({ root: blobRoot });
    queue = createInProcessQueue(createCatalog(), {
      services: { db: test.db, blobs, signingKey },
      logger: pino({ enabled: false }),
      cpu: { size: 1 },
    });
  }, 60_000);
  afterAll(async () => {
    await queue.close();
    await test.cleanup();
    await fs.rm(blobRoot, { recursive: true, force: true });
  });

  async function upload(lineId: string, name: 'mobilenet-v1-025-64' | 'mobilenet-v1-025-64-finetune') {
    const files = loadDemoModelFiles(name);
    const modelJson = await blobs.put(files.get('model.json')!);
    const shard = files.get('group1-shard1of1.bin')!;
    const weights = await blobs.put(shard);
    return test.db.prisma.modelVersion.create({
      data: {
        lineId,
        modelJsonSha256: modelJson.sha256,
        weightShardSha256s: [weights.sha256],
        sourceBytes: shard.length,
      },
    });
  }

  async function optimize(versionId: string) {
    const job = await waitForJob(queue, (await queue.enqueue('optimize', { versionId })).jobId, {
      timeoutMs: 400_000,
    });
    expect(job.state, job.failedReason).toBe('completed');
    return test.db.prisma.candidate.findMany({ where: { versionId }, orderBy: { variant: 'asc' } });
  }

  it('builds int8-per-channel+reuse from the release, with a smaller delta to the fleet and accuracy within the policy', async () => {
    const { prisma } = test.db;
    const manifest = readDemoManifest();
    const line = await prisma.modelLine.create({
      data: {
        name: 'reuse',
        preprocessing: { inputSize: [64, 64], ...manifest.preprocessing, classNames: manifest.classNames },
        policy: {
          variants: ['int8-per-channel'],
          weights: { size: 1, latency: 1, accuracy: 1, fleetWire: 1 },
          constraints: { maxAccuracyDropPoints: 1 },
          autoPublish: false,
          channel: 'stable',
          latencyRuns: 5,
        },
      },
    });
    // the distribution the successor was fine-tuned for: 340 test images
    const testSet = createDemoDatasets(shiftedDatasetSpec).test;
    const stored = await blobs.put(encodeDataset(testSet));
    await prisma.dataset.create({
      data: {
        lineId: line.id,
        role: 'test',
        blobSha256: stored.sha256,
        sampleCount: testSet.labels.length,
        classNames: manifest.classNames,
        classCounts: {},
      },
    });

    // version 1: no release yet, so no delta-friendly twin (reported as skipped) and no fleet
    const base = await upload(line.id, 'mobilenet-v1-025-64');
    const first = await optimize(base.id);
    expect(first.map((c) => c.variant)).toEqual(['int8-per-channel', 'theta0']);
    const firstVersion = await prisma.modelVersion.findUniqueOrThrow({ where: { id: base.id } });
    expect((firstVersion.selection as { details: { skipped: unknown } }).details.skipped).toEqual([
      { variant: 'int8-per-channel+reuse', reason: 'the channel has no earlier release to reuse' },
    ]);
    expect((first[0]!.metrics as unknown as CandidateDetails).fleetWireBytes).toBeUndefined();

    // release 1 = the base's int8 per-channel artifact, run by three devices of the channel
    const released = first.find((c) => c.variant === 'int8-per-channel')!;
    const release = await publishRelease(test.db, signingKey, {
      lineId: line.id,
      channel: 'stable',
      candidateId: released.id,
    });
    const channel = await prisma.channel.findUniqueOrThrow({
      where: { lineId_name: { lineId: line.id, name: 'stable' } },
    });
    for (const n of [1, 2, 3])
      await prisma.device.create({
        data: {
          deviceId: `reuse-device-${n}`,
          tokenHash: `reuse-token-${n}`,
          channelId: channel.id,
          currentArtifactSha256: release.artifactSha256,
        },
      });

    // version 2: the full fine-tune successor
    const successor = await upload(line.id, 'mobilenet-v1-025-64-finetune');
    const second = await optimize(successor.id);
    expect(second.map((c) => c.variant)).toEqual(['int8-per-channel', 'int8-per-channel+reuse', 'theta0']);
    const byVariant = new Map(second.map((c) => [c.variant, c]));
    const plain = byVariant.get('int8-per-channel')!;
    const reuse = byVariant.get('int8-per-channel+reuse')!;
    const theta0 = byVariant.get('theta0')!;
    const metrics = (c: typeof plain) => c.metrics as unknown as CandidateDetails;

    // the twin reused the release's grids for nearly every channel and kept most integers
    expect(metrics(reuse).deltaReuse).toMatchObject({
      release: release.number,
      artifactSha256: release.artifactSha256,
    });
    const summary = metrics(reuse).deltaReuse!;
    expect(summary.reusedRanges / summary.totalRanges).toBeGreaterThan(0.9);
    expect(summary.keptIntegers / summary.totalIntegers).toBeGreaterThan(0.5);
    const artifact = decodeBundle(await readBlobBytes(blobs, reuse.artifactSha256));
    expect(decisionsOf(artifact).some((d) => /previous grid reused/.test(d.reason))).toBe(true);

    // deltas from the release the fleet runs: the twin's is much smaller than the plain candidate's
    const deltaOf = (c: typeof plain) => metrics(c).deltaBytes![release.artifactSha256]!;
    expect(deltaOf(reuse)).toBeLessThan(0.8 * deltaOf(plain));
    for (const c of second) {
      const fleet = metrics(c).fleet!;
      expect(fleet.basis).toBe('devices');
      expect(fleet.sources).toEqual([
        {
          artifactSha256: release.artifactSha256,
          devices: 3,
          deltaBytes: deltaOf(c),
          sentBytes: Math.min(deltaOf(c), c.wireBytes),
        },
      ]);
      expect(metrics(c).fleetWireBytes).toBe(3 * Math.min(deltaOf(c), c.wireBytes));
      // L = the study's terms + wF (F / W0 - 1), W0 = theta0's full wire size
      const inputs = (x: typeof plain) => ({
        fileBytes: x.fileBytes,
        latencyMs: x.latencyMedianMs,
        accuracy: x.accuracy,
      });
      const study = objectiveL(inputs(c), inputs(theta0));
      expect(c.objective).toBeCloseTo(study + (metrics(c).fleetWireBytes! / theta0.wireBytes - 1), 9);
    }

    // accuracy: within the policy's one point of float32, as eligible says
    expect(reuse.accuracy).toBeGreaterThanOrEqual(theta0.accuracy - 1);
    expect(reuse.eligible).toBe(true);
    const version = await prisma.modelVersion.findUniqueOrThrow({ where: { id: successor.id } });
    const details = (version.selection as { details: { weights: Record<string, number>; skipped: unknown[] } }).details;
    expect(details.weights).toMatchObject({ fleetWire: 1 });
    expect(details.skipped).toEqual([]);
  }, 900_000);
});
