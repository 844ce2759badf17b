import type { Preprocessing, ReleaseManifest } from '@modelfleet/contracts';
import type { Database, Release } from '@modelfleet/db';
import { signEnvelope, type SigningKey } from '@modelfleet/signing';
import { ensureChannel } from './channels.js';
import { ReleaseNumberContention } from './errors.js';

export const MANIFEST_KIND = 'release-manifest';

export interface PublishInput {
  lineId: string;
  channel: string;
  candidateId: string;
  /** Set when the release republishes an earlier one (rollback): same artifact, higher number. */
  republishedFromId?: string;
  /** Staged for a rollout: polls offer it only to the rollout's devices until the rollout completes. */
  staged?: boolean;
}

const MAX_ATTEMPTS = 8;

/**
 * Publishes a candidate as the next release of a line's channel: allocates the number (one more than
 * the highest so far; the unique index settles races between servers and workers), builds the manifest,
 * signs it and stores both. Numbers only grow, so a device can refuse any manifest older than what it runs.
 */
export async function publishRelease(
  db: Database,
  key: SigningKey,
  input: PublishInput,
  now = new Date(),
): Promise<Release> {
  const { prisma } = db;
  const line = await prisma.modelLine.findUniqueOrThrow({ where: { id: input.lineId } });
  const candidate = await prisma.candidate.findUniqueOrThrow({ where: { id: input.candidateId } });
  const channel = await ensureChannel(db, line.id, input.channel);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const last = await prisma.release.findFirst({
      where: { lineId: line.id, channelId: channel.id },
      orderBy: { number: 'desc' },
      select: { number: true },
    });
    const number = (last?.number ?? 0) + 1;
    const manifest: ReleaseManifest = {
      schema: 'modelfleet.release/v1',
      line: line.name,
      channel: channel.name,
      release: number,
      artifact: {
        sha256: candidate.artifactSha256,
        size: candidate.fileBytes,
        encoding: candidate.encoding,
        variant: candidate.variant,
      },
      preprocessing: line.preprocessing as unknown as Preprocessing,
      createdAt: now.toISOString(),
    };
    const envelope = signEnvelope(MANIFEST_KIND, manifest, key);
    const signature = envelope.signatures[0]!;
    try {
      return await prisma.release.create({
        data: {
          lineId: line.id,
          channelId: channel.id,
          number,
          candidateId: candidate.id,
          artifactSha256: candidate.artifactSha256,
          artifactBytes: candidate.fileBytes,
          manifest,
          signature: signature.signature,
          keyId: signature.keyId,
          republishedFromId: input.republishedFromId ?? null,
          staged: input.staged ?? false,
          createdAt: now,
        },
      });
    } catch (error) {
      if ((error as { code?: string }).code !== 'P2002') throw error;
      // Another publisher took this number first; take the next one.
    }
  }
  throw new ReleaseNumberContention(line.name, channel.name, String(MAX_ATTEMPTS));
}
