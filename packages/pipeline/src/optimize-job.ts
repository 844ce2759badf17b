import { Type } from 'typebox';
import type { OptimizationPolicy, Preprocessing } from '@modelfleet/contracts';
import { isModelFleetError } from '@modelfleet/errors';
import type { Prisma } from '@modelfleet/db';
import { defineJob, isPermanentFailure, PermanentJobError, type JobContext } from '@modelfleet/jobs';
import { candidateById } from '@modelfleet/quantize';
import { publishRelease } from '@modelfleet/releases';
import { readBlobBytes } from '@modelfleet/storage';
import { DatasetRequired, VersionMissing } from './errors.js';
import type { FleetBasis } from './fleet-wire.js';
import type { OptimizeTaskInput, OptimizeTaskOutput } from './optimize-task.js';
import type { PipelineServices } from './services.js';

/** A measured value as Prisma's JSON input (plain data, no class instances or undefined). */
function toJson(value: object): Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonObject;
}

export const OptimizePayload = Type.Object({ versionId: Type.String({ format: 'uuid' }) });

/** At most this many distinct fleet artifacts get a delta measured per candidate (the most common ones). */
export const MAX_FLEET_SOURCES = 4;

/**
 * The policy channel's latest release of another version (its artifact: the grids `+reuse` variants
 * reuse) and what the channel's fleet runs: each distinct artifact the devices report (the
 * MAX_FLEET_SOURCES most common; the rest, and artifacts missing from the store, count at the full
 * wire size), or the latest release when no device reports one.
 */
async function fleetOf(
  { db, blobs }: PipelineServices,
  lineId: string,
  versionId: string,
  channelName: string,
): Promise<{ previousRelease?: OptimizeTaskInput['previousRelease']; fleet?: FleetBasis }> {
  const channel = await db.prisma.channel.findUnique({ where: { lineId_name: { lineId, name: channelName } } });
  if (channel === null) return {};
  const latest = await db.prisma.release.findFirst({
    where: { channelId: channel.id, candidate: { versionId: { not: versionId } } },
    orderBy: { number: 'desc' },
  });
  const previousRelease =
    latest !== null && (await blobs.exists(latest.artifactSha256))
      ? {
          number: latest.number,
          artifactSha256: latest.artifactSha256,
          bundle: await readBlobBytes(blobs, latest.artifactSha256),
        }
      : undefined;
  const groups = await db.prisma.device.groupBy({
    by: ['currentArtifactSha256'],
    where: { channelId: channel.id, revokedAt: null, currentArtifactSha256: { not: null } },
    _count: { _all: true },
  });
  if (groups.length === 0) {
    if (previousRelease === undefined) return {};
    const source = { artifactSha256: previousRelease.artifactSha256, devices: 1, bundle: previousRelease.bundle };
    return { previousRelease, fleet: { basis: 'latest-release', sources: [source], uncountedDevices: 0 } };
  }
  groups.sort(
    (a, b) => b._count._all - a._count._all || a.currentArtifactSha256!.localeCompare(b.currentArtifactSha256!),
  );
  const sources: FleetBasis['sources'] = [];
  let uncountedDevices = 0;
  for (const group of groups) {
    const sha256 = group.currentArtifactSha256!;
    if (sources.length < MAX_FLEET_SOURCES && (await blobs.exists(sha256)))
      sources.push({ artifactSha256: sha256, devices: group._count._all, bundle: await readBlobBytes(blobs, sha256) });
    else uncountedDevices += group._count._all;
  }
  return {
    ...(previousRelease !== undefined ? { previousRelease } : {}),
    fleet: { basis: 'devices', sources, uncountedDevices },
  };
}

const ATTEMPTS = 3;
const TASK_MODULE = new URL('./optimize-task.ts', import.meta.url);

/** The stages a version goes through, with the share of the whole each one takes (for percentages). */
const STAGES = { load: [0, 5], evaluate: [5, 90], store: [90, 97], publish: [97, 100] } as const;

export interface OptimizeResult {
  versionId: string;
  winner: string | null;
  candidates: { variant: string; artifactSha256: string }[];
  release: number | null;
}

/**
 * Optimize one uploaded version: build and measure every candidate of the line's policy, store the
 * candidate table and the artifacts, select the winner and, when the policy says so, publish it.
 * Idempotent: artifacts are content-addressed, rows are keyed by (version, variant), and publishing
 * skips a version already released on the channel, so a retried or duplicated job changes nothing twice.
 */
async function optimize(payload: { versionId: string }, ctx: JobContext<PipelineServices>): Promise<OptimizeResult> {
  const { db, blobs, signingKey } = ctx.services;
  const { prisma } = db;
  let lastWritten = -1;
  const progress = async (stage: keyof typeof STAGES, fraction: number) => {
    const [from, to] = STAGES[stage];
    const percent = Math.round((from + (to - from) * Math.min(1, Math.max(0, fraction))) * 10) / 10;
    await ctx.progress(stage, percent);
    // The row carries progress too, so the API shows it whichever queue driver runs the job.
    if (percent - lastWritten >= 2 || fraction >= 1) {
      lastWritten = percent;
      await prisma.modelVersion.update({
        where: { id: payload.versionId },
        data: { progressStage: stage, progressPercent: percent },
      });
    }
  };

  const version = await prisma.modelVersion.findUnique({ where: { id: payload.versionId }, include: { line: true } });
  if (version === null) throw new VersionMissing(payload.versionId);
  const line = version.line;
  const policy = line.policy as unknown as OptimizationPolicy;
  const preprocessing = line.preprocessing as unknown as Preprocessing;

  try {
    await prisma.modelVersion.update({
      where: { id: version.id },
      data: { status: 'optimizing', errorCode: null, errorMessage: null, finishedAt: null },
    });
    await progress('load', 0);

    const datasets = await prisma.dataset.findMany({ where: { lineId: line.id }, orderBy: { createdAt: 'desc' } });
    const newest = (role: 'test' | 'calibration' | 'train') => datasets.find((dataset) => dataset.role === role);
    const test = newest('test');
    if (test === undefined) throw new DatasetRequired(line.name, 'test', 'accuracy is measured on it');
    const needsCalibration = policy.variants.some((id) => candidateById(id).needsCalibration);
    const calibration = newest('calibration') ?? newest('train');
    if (needsCalibration && calibration === undefined) {
      throw new DatasetRequired(
        line.name,
        'calibration',
        'theta2/theta3 calibrate activation ranges on it (or on a train set)',
      );
    }
    const train = newest('train');

    const modelJson = JSON.parse(new TextDecoder().decode(await readBlobBytes(blobs, version.modelJsonSha256))) as {
      weightsManifest?: { paths?: string[] }[];
    };
    const shardPaths = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths ?? []);
    const modelFiles: [string, Uint8Array][] = [['model.json', await readBlobBytes(blobs, version.modelJsonSha256)]];
    for (const [index, path] of shardPaths.entries()) {
      const sha256 = version.weightShardSha256s[index];
      if (sha256 === undefined)
        throw new PermanentJobError('MF_ERR_VERSION_CORRUPT', `version ${version.id} lacks shard ${path}`);
      modelFiles.push([path, await readBlobBytes(blobs, sha256)]);
    }
    const { previousRelease, fleet } = await fleetOf(ctx.services, line.id, version.id, policy.channel);
    const input: OptimizeTaskInput = {
      modelFiles,
      test: await readBlobBytes(blobs, test.blobSha256),
      ...(calibration !== undefined ? { calibration: await readBlobBytes(blobs, calibration.blobSha256) } : {}),
      ...(train !== undefined ? { train: await readBlobBytes(blobs, train.blobSha256) } : {}),
      preprocessing: { scale: preprocessing.scale, offset: preprocessing.offset },
      policy,
      ...(previousRelease !== undefined ? { previousRelease } : {}),
      ...(fleet !== undefined ? { fleet } : {}),
    };
    await progress('load', 1);

    let pending = Promise.resolve();
    const output = await ctx.cpu.run<OptimizeTaskOutput>(TASK_MODULE, 'runOptimization', input, {
      signal: ctx.signal,
      onProgress: (percent) => {
        pending = pending
          .then(() => progress('evaluate', percent / 100))
          .catch((error: unknown) => ctx.log.warn({ err: error }, 'progress not recorded'));
      },
    });
    await pending;
    await progress('evaluate', 1);

    const bundles = new Map(output.bundles.map((entry) => [entry.variant, entry.bundle]));
    const candidateIds = new Map<string, string>();
    for (const [index, row] of output.rows.entries()) {
      const bundle = bundles.get(row.variant);
      if (bundle === undefined) throw new Error(`no artifact for ${row.variant}`);
      const stored = await blobs.put(bundle, { expectedSha256: row.bundleSha256 });
      const fields = {
        encoding: row.encoding,
        artifactSha256: stored.sha256,
        fileBytes: row.fileBytes,
        wireBytes: row.wireBytes,
        accuracy: row.accuracy * 100,
        trainAccuracy: row.trainAccuracy === undefined ? null : row.trainAccuracy * 100,
        accuracySimulated: row.simulated,
        latencyMedianMs: row.latency.medianMs,
        latencyP90Ms: row.latency.p90Ms,
        objective: row.L,
        eligible: row.eligible,
        ineligibleReason: row.eligible ? null : row.reason,
        metrics: toJson({
          label: row.label,
          reason: row.reason,
          latency: row.latency,
          runtime: output.runtime,
          ...output.details[row.variant],
        }),
      };
      const candidate = await prisma.$transaction(async (tx) => {
        // ON CONFLICT DO NOTHING: two jobs storing the same artifact bytes at once both succeed.
        await tx.blob.createMany({
          data: [{ sha256: stored.sha256, size: stored.size, kind: 'artifact' }],
          skipDuplicates: true,
        });
        return tx.candidate.upsert({
          where: { versionId_variant: { versionId: version.id, variant: row.variant } },
          create: { versionId: version.id, variant: row.variant, ...fields },
          update: fields,
        });
      });
      candidateIds.set(row.variant, candidate.id);
      await progress('store', (index + 1) / output.rows.length);
    }

    const winnerId = candidateIds.get(output.decision.chosen) ?? null;
    await prisma.modelVersion.update({
      where: { id: version.id },
      data: {
        winnerCandidateId: winnerId,
        selection: {
          winnerVariant: output.decision.chosen,
          reason: output.decision.reason,
          details: toJson({ ...output.decision, skipped: output.skipped }),
        },
      },
    });

    let releaseNumber: number | null = null;
    if (policy.autoPublish && winnerId !== null) {
      // One automatic release per version and channel: a re-run whose noisy latencies tip the choice
      // to another candidate must not publish a second time.
      const existing = await prisma.release.findFirst({
        where: { candidate: { versionId: version.id }, channel: { name: policy.channel } },
      });
      const release =
        existing ??
        (await publishRelease(db, signingKey, { lineId: line.id, channel: policy.channel, candidateId: winnerId }));
      releaseNumber = release.number;
      ctx.log.info({ release: release.number, channel: policy.channel }, existing ? 'already published' : 'published');
    }
    await progress('publish', 1);
    await prisma.modelVersion.update({
      where: { id: version.id },
      data: { status: 'ready', progressStage: 'done', progressPercent: 100, finishedAt: new Date() },
    });
    return {
      versionId: version.id,
      winner: output.decision.chosen,
      candidates: output.rows.map((row) => ({ variant: row.variant, artifactSha256: row.bundleSha256 })),
      release: releaseNumber,
    };
  } catch (error) {
    // An invalid model or missing data fails the same way again: the drivers stop retrying
    // (isPermanentFailure); record the failure on the version when no attempt is left.
    if (isPermanentFailure(error) || ctx.attempt >= ATTEMPTS) {
      const code = isModelFleetError(error) ? error.code : 'MF_ERR_OPTIMIZE_FAILED';
      await prisma.modelVersion
        .update({
          where: { id: version.id },
          data: {
            status: 'failed',
            errorCode: code,
            errorMessage: error instanceof Error ? error.message : String(error),
            finishedAt: new Date(),
          },
        })
        .catch((updateError: unknown) => ctx.log.error({ err: updateError }, 'could not record the failure'));
    }
    throw error;
  }
}

export const optimizeJob = defineJob({
  name: 'optimize',
  payload: OptimizePayload,
  attempts: ATTEMPTS,
  backoff: { type: 'exponential', delayMs: 2_000 },
  process: optimize,
});
