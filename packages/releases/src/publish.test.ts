import { createTestDatabase, postgresTestAvailability, type TestDatabase } from '@modelfleet/db/testing';
import { generateSigningKey, publicKeyFromBase64, verifyEnvelope } from '@modelfleet/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KIND, publishRelease } from './index.js';

const postgres = await postgresTestAvailability();

// PGlite serialises everything on one connection; PostgreSQL makes the concurrent publishers really race.
describe.each([
  { kind: 'pglite' as const, run: true },
  { kind: 'postgres' as const, run: postgres.available || postgres.required },
])('publishRelease on $kind', ({ kind, run }) => {
  if (!run) {
    it.skip(`needs PostgreSQL: ${postgres.reason ?? ''}`, () => undefined);
    return;
  }
  let test: TestDatabase;
  const key = generateSigningKey();
  let lineId = '';
  let candidateId = '';

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    const { prisma } = test.db;
    const line = await prisma.modelLine.create({
      data: {
        name: 'sorter',
        preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['can', 'bottle'] },
        policy: {},
      },
    });
    lineId = line.id;
    const version = await prisma.modelVersion.create({
      data: { lineId, modelJsonSha256: 'a'.repeat(64), weightShardSha256s: ['b'.repeat(64)], sourceBytes: 10 },
    });
    const candidate = await prisma.candidate.create({
      data: {
        versionId: version.id,
        variant: 'theta4',
        encoding: 'float16',
        artifactSha256: 'c'.repeat(64),
        fileBytes: 1234,
        wireBytes: 1000,
        accuracy: 99,
        accuracySimulated: false,
        latencyMedianMs: 1,
        latencyP90Ms: 2,
        objective: -0.5,
        eligible: true,
      },
    });
    candidateId = candidate.id;
  }, 60_000);
  afterAll(() => test.cleanup());

  it('numbers releases per line and channel, signs a manifest that verifies with the public key', async () => {
    const first = await publishRelease(test.db, key, { lineId, channel: 'stable', candidateId });
    const second = await publishRelease(test.db, key, { lineId, channel: 'stable', candidateId });
    const canary = await publishRelease(test.db, key, { lineId, channel: 'canary', candidateId });
    expect([first.number, second.number, canary.number]).toEqual([1, 2, 1]);

    const envelope = { signed: second.manifest, signatures: [{ keyId: second.keyId, signature: second.signature }] };
    const manifest = verifyEnvelope<{
      release: number;
      artifact: { sha256: string; size: number };
      preprocessing: unknown;
    }>(MANIFEST_KIND, envelope, [publicKeyFromBase64(key.publicKeyBase64)]);
    expect(manifest).toMatchObject({ release: 2, artifact: { sha256: 'c'.repeat(64), size: 1234 } });
    expect(manifest.preprocessing).toMatchObject({ inputSize: [64, 64], classNames: ['can', 'bottle'] });
    // The stored manifest is what was signed: another number would not verify.
    const forged = { ...envelope, signed: { ...(second.manifest as object), release: 3 } };
    expect(() => verifyEnvelope(MANIFEST_KIND, forged, [publicKeyFromBase64(key.publicKeyBase64)])).toThrow();
  });

  it('gives concurrent publishers distinct, consecutive numbers', async () => {
    const releases = await Promise.all(
      Array.from({ length: 5 }, () => publishRelease(test.db, key, { lineId, channel: 'burst', candidateId })),
    );
    expect(releases.map((release) => release.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  });
});
