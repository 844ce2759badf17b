import type {
  ApiKeyInfo,
  Dataset,
  ModelLine,
  OptimizationPolicy,
  Preprocessing,
  Release,
  SignedReleaseManifest,
} from '@modelfleet/contracts';
import type * as db from '@modelfleet/db';

/** Rows to wire shapes: one place, so every route answers the same shape for the same thing. */
export function modelLineOut(row: db.ModelLine): ModelLine {
  return {
    id: row.id,
    name: row.name,
    preprocessing: row.preprocessing as unknown as Preprocessing,
    policy: row.policy as unknown as OptimizationPolicy,
    createdAt: row.createdAt.toISOString(),
  };
}

export function datasetOut(row: db.Dataset): Dataset {
  return {
    id: row.id,
    role: row.role,
    name: row.name,
    sha256: row.blobSha256,
    sampleCount: row.sampleCount,
    classCounts: row.classCounts as Record<string, number>,
    createdAt: row.createdAt.toISOString(),
  };
}

export function releaseOut(
  row: db.Release & { channel: { name: string }; candidate: { variant: string } },
  line: string,
): Release {
  return {
    id: row.id,
    line,
    channel: row.channel.name,
    number: row.number,
    candidateId: row.candidateId,
    variant: row.candidate.variant,
    artifactSha256: row.artifactSha256,
    artifactBytes: row.artifactBytes,
    manifest: {
      signed: row.manifest as unknown as SignedReleaseManifest['signed'],
      signatures: [{ keyId: row.keyId, signature: row.signature }],
    },
    createdAt: row.createdAt.toISOString(),
  };
}

export function apiKeyOut(row: db.ApiKey): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
