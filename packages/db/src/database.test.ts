import { afterEach, describe, expect, it } from 'vitest';
import { databaseConfigFromSettings } from './config.js';
import { createDatabase } from './database.js';
import { Prisma } from './generated/prisma/client.js';
import { createTestDatabase, postgresTestAvailability, type TestDatabase } from './testing/index.js';

const postgres = await postgresTestAvailability();
const skipPostgres = !postgres.available && !postgres.required;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function migratedDatabase(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  const testDb = await createTestDatabase(kind);
  cleanups.push(() => testDb.cleanup());
  return testDb;
}

const sha = (character: string) => character.repeat(64);

describe.each([
  { kind: 'pglite' as const, skip: false },
  { kind: 'postgres' as const, skip: skipPostgres },
])('Prisma on $kind', ({ kind, skip }) => {
  it.skipIf(skip)('creates and reads the upload-to-release chain with JSON, arrays, enums and timestamps', async () => {
    const { db } = await migratedDatabase(kind);
    expect(db.kind).toBe(kind);
    await db.ping();

    const line = await db.prisma.modelLine.create({
      data: {
        name: 'waste-sorter',
        preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['glass', 'paper'] },
        policy: { constraints: { maxAccuracyDrop: 0.01 }, autoPublish: true, channel: 'stable' },
        channels: { create: { name: 'stable' } },
      },
      include: { channels: true },
    });
    const channel = line.channels[0]!;
    const version = await db.prisma.modelVersion.create({
      data: {
        lineId: line.id,
        modelJsonSha256: sha('a'),
        weightShardSha256s: [sha('b'), sha('c')],
        sourceBytes: 879_000,
      },
    });
    expect(version.status).toBe('uploaded');
    const candidate = await db.prisma.candidate.create({
      data: {
        versionId: version.id,
        variant: 'int8-per-channel',
        encoding: 'int8-per-channel',
        artifactSha256: sha('d'),
        fileBytes: 230_000,
        wireBytes: 190_000,
        accuracy: 0.91,
        accuracySimulated: true,
        latencyMedianMs: 4.2,
        latencyP90Ms: 5.1,
        objective: 0.37,
        eligible: true,
      },
    });
    await db.prisma.modelVersion.update({
      where: { id: version.id },
      data: { status: 'ready', winnerCandidateId: candidate.id, selection: { reason: 'argmin L' } },
    });
    const release = await db.prisma.release.create({
      data: {
        lineId: line.id,
        channelId: channel.id,
        number: 1,
        candidateId: candidate.id,
        artifactSha256: candidate.artifactSha256,
        artifactBytes: candidate.fileBytes,
        manifest: { line: line.name, release: 1 },
        signature: 'c2lnbmF0dXJl',
        keyId: 'k1',
      },
    });

    const read = await db.prisma.modelVersion.findUniqueOrThrow({
      where: { id: version.id },
      include: { winner: { include: { releases: true } }, line: true },
    });
    expect(read.weightShardSha256s).toEqual([sha('b'), sha('c')]);
    expect(read.line.preprocessing).toEqual(line.preprocessing);
    expect(read.winner?.accuracySimulated).toBe(true);
    expect(read.winner?.releases.map((r) => r.id)).toEqual([release.id]);
    expect(release.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(release.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it.skipIf(skip)('enforces the unique keys the domain relies on (P2002)', async () => {
    const { db } = await migratedDatabase(kind);
    const line = await db.prisma.modelLine.create({
      data: { name: 'line', preprocessing: {}, policy: {}, channels: { create: { name: 'stable' } } },
      include: { channels: true },
    });
    const duplicate = db.prisma.channel.create({ data: { lineId: line.id, name: 'stable' } });
    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(duplicate).rejects.toMatchObject({ code: 'P2002' });
  });

  it.skipIf(skip)('rolls back an interactive transaction that throws', async () => {
    const { db } = await migratedDatabase(kind);
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.apiKey.create({ data: { name: 'ci', prefix: 'mfk_abc', hash: sha('e'), scopes: ['read', 'upload'] } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.prisma.apiKey.count()).toBe(0);
  });

  it.skipIf(skip)('close() is idempotent, and the database refuses pings afterwards', async () => {
    const { db } = await migratedDatabase(kind);
    const first = db.close();
    const second = db.close();
    expect(second).toBe(first);
    await first;
    expect(db.closed).toBe(true);
    await expect(db.ping()).rejects.toMatchObject({ code: 'MF_ERR_DB_CLOSED' });
  });
});

describe.skipIf(skipPostgres)('PostgreSQL configuration', () => {
  it('takes the schema from a DATABASE_URL with ?schema= (how other processes of a test connect)', async () => {
    const testDb = await migratedDatabase('postgres');
    await testDb.db.prisma.modelLine.create({ data: { name: 'seen-by-both', preprocessing: {}, policy: {} } });
    const viaUrl = await createDatabase({ kind: 'postgres', url: testDb.databaseUrl! });
    cleanups.push(() => viaUrl.close());
    expect(viaUrl.driver.schema).toBe(testDb.db.driver.schema);
    expect(await viaUrl.prisma.modelLine.findMany({ select: { name: true } })).toEqual([{ name: 'seen-by-both' }]);
  });
});

describe('configuration errors and unreachable servers', () => {
  it('refuses a URL that is not postgresql:// and a schema that is not a plain identifier', async () => {
    await expect(createDatabase({ kind: 'postgres', url: 'mysql://root@localhost/db' })).rejects.toMatchObject({
      code: 'MF_ERR_DB_CONFIG_INVALID',
    });
    await expect(
      createDatabase({ kind: 'postgres', url: 'postgresql://postgres@127.0.0.1/postgres', schema: 'x; DROP' }),
    ).rejects.toMatchObject({ code: 'MF_ERR_DB_CONFIG_INVALID' });
  });

  it('ping() reports an unreachable PostgreSQL as MF_ERR_DB_UNAVAILABLE', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const db = await createDatabase({ kind: 'postgres', url: 'postgresql://postgres@127.0.0.1:1/postgres' });
    cleanups.push(() => db.close());
    await expect(db.ping()).rejects.toMatchObject({ code: 'MF_ERR_DB_UNAVAILABLE' });
  });

  it('derives PGlite or PostgreSQL from the environment names', () => {
    expect(databaseConfigFromSettings({ dataDir: '/var/lib/modelfleet' })).toEqual({
      kind: 'pglite',
      dataDir: '/var/lib/modelfleet/pgdata',
    });
    expect(databaseConfigFromSettings({ databaseUrl: 'postgresql://db/modelfleet', dataDir: '.modelfleet' })).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/modelfleet',
    });
  });
});
