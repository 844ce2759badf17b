import type { Candidate, ModelVersion, Selection } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import { VersionNotFound } from './errors.js';

/** A version with its candidate table, decision and releases, as the API shows it. */
export async function loadVersion(db: Database, lineName: string, versionId: string): Promise<ModelVersion> {
  const row = await db.prisma.modelVersion.findFirst({
    where: { id: versionId, line: { name: lineName } },
    include: {
      candidates: { orderBy: { createdAt: 'asc' } },
    },
  });
  if (row === null) throw new VersionNotFound(versionId, lineName);
  const releases = await db.prisma.release.findMany({
    where: { candidate: { versionId: row.id } },
    include: { channel: true },
    orderBy: { number: 'asc' },
  });
  const candidates: Candidate[] = row.candidates.map((c) => ({
    id: c.id,
    variant: c.variant,
    encoding: c.encoding,
    artifactSha256: c.artifactSha256,
    fileBytes: c.fileBytes,
    wireBytes: c.wireBytes,
    accuracy: c.accuracy,
    trainAccuracy: c.trainAccuracy,
    accuracySimulated: c.accuracySimulated,
    latencyMedianMs: c.latencyMedianMs,
    latencyP90Ms: c.latencyP90Ms,
    objective: c.objective,
    eligible: c.eligible,
    ineligibleReason: c.ineligibleReason,
    winner: c.id === row.winnerCandidateId,
    metrics: c.metrics as Record<string, unknown>,
  }));
  return {
    id: row.id,
    line: lineName,
    status: row.status,
    progress: { stage: row.progressStage, percent: row.progressPercent },
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
    sourceBytes: row.sourceBytes,
    candidates,
    selection: (row.selection as Selection | null) ?? null,
    releaseNumbers: releases.map((release) => ({ channel: release.channel.name, number: release.number })),
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
