import type { Dataset } from '@modelfleet/contracts';
import { createTestDatabase, postgresTestAvailability, type TestDatabase } from '@modelfleet/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLine, postDataset, syntheticDatasetFile } from '../../../testing/api.js';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';

/*
 * On PostgreSQL, requests really run at once (PGlite serialises them on one connection): uploads of the same
 * bytes at the same moment all succeed and share one blob row. The blob row used to be written with an
 * upsert, which reads and then inserts; the slower of two concurrent uploads failed on the primary key (500).
 */
const postgres = await postgresTestAvailability();
const skip = !postgres.available && !postgres.required;

describe.skipIf(skip)('uploads on PostgreSQL', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let server: TestServer;
  const LINE = 'pg-uploads';

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    await testDb.db.close();
    server = await startTestServer({ DATABASE_URL: testDb.databaseUrl! });
    await createLine(server, LINE);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await testDb?.cleanup();
  });

  it('six uploads of the same bytes at once: six datasets, one blob row, all 201', async () => {
    for (let round = 0; round < 3; round++) {
      const bytes = syntheticDatasetFile({ count: 5, seed: 3000 + round });
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          postDataset(server, LINE, { filename: `same-${round}-${i}.mfds`, bytes }, { role: 'train' }),
        ),
      );
      for (const answer of answers) expect(answer.statusCode, `round ${round}: ${answer.body}`).toBe(201);
      const sha256 = answers[0]!.json<Dataset>().sha256;
      expect(new Set(answers.map((answer) => answer.json<Dataset>().sha256))).toEqual(new Set([sha256]));
      const { prisma } = server.services.db;
      expect(await prisma.blob.count({ where: { sha256 } })).toBe(1);
      expect(await prisma.dataset.count({ where: { blobSha256: sha256 } })).toBe(6);
      expect(await server.services.blobs.exists(sha256)).toBe(true);
    }
  });
});
