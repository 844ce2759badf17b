import type { Candidate, PrismaClient } from '../generated/prisma/client.js';

/**
 * Records, straight in the database, what an optimize job leaves behind for one artifact: the blob row (kept
 * if it exists), a ready version and an eligible candidate whose artifact it is. For tests and benchmarks that
 * need something to publish or roll out without running the job; the artifact's bytes must already be in the
 * blob store.
 */
export async function insertReadyCandidate(
  prisma: PrismaClient,
  options: {
    lineId: string;
    artifact: { sha256: string; size: number };
    variant?: string;
    encoding?: string;
  },
): Promise<Candidate> {
  const { sha256, size } = options.artifact;
  await prisma.blob.createMany({ data: [{ sha256, size, kind: 'artifact' }], skipDuplicates: true });
  const version = await prisma.modelVersion.create({
    data: {
      lineId: options.lineId,
      status: 'ready',
      modelJsonSha256: sha256,
      weightShardSha256s: [],
      sourceBytes: size,
    },
  });
  return prisma.candidate.create({
    data: {
      versionId: version.id,
      variant: options.variant ?? 'theta4',
      encoding: options.encoding ?? 'float16',
      artifactSha256: sha256,
      fileBytes: size,
      wireBytes: size,
      accuracy: 0.9,
      accuracySimulated: false,
      latencyMedianMs: 1,
      latencyP90Ms: 1,
      objective: 0,
      eligible: true,
    },
  });
}
