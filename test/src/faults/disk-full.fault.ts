import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '@modelfleet/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { serverAddress, startServer, type RunningProcess } from '../support/processes.js';
import { adminApi, blobFiles, newAdminKey } from './support/api.js';

const run = promisify(execFile);

/** Writes zeros into `file` until the filesystem refuses (ENOSPC). */
async function fillUp(file: string): Promise<void> {
  const handle = await fs.open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The server's data folder is a small tmpfs (mounted by the test: it runs as root, as the fault suite does);
 * the disk is filled up and a dataset is uploaded. The put of the upload hits ENOSPC: the answer is
 * 507 MF_ERR_BLOB_STORE_FULL, the temp file is gone, no blob of it and no row of it exist, and every blob row
 * still has its file. Once space is freed, the same upload works.
 */
describe('the disk full during a blob write', () => {
  let workDir = '';
  let dataDir = '';
  let mounted = false;
  let demo: DemoFiles;
  let database: TestDatabase | undefined;
  let server: RunningProcess | undefined;

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-disk-'));
    dataDir = path.join(workDir, 'data');
    await fs.mkdir(dataDir);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dataDir]).catch((error: unknown) => {
      throw new Error(`the disk-full test mounts a tmpfs and needs root (mount failed: ${String(error)})`);
    });
    mounted = true;
    [demo, database] = await Promise.all([writeDemoFiles(workDir), createTestDatabase('postgres')]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await database?.cleanup();
    if (mounted) await run('umount', [dataDir]);
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('answers 507 MF_ERR_BLOB_STORE_FULL and leaves no partial blob and no dangling row', async () => {
    const adminKey = newAdminKey();
    server = startServer({
      MODELFLEET_DATA_DIR: dataDir,
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: database!.databaseUrl!,
      REDIS_URL: undefined,
    });
    const address = await serverAddress(server);
    const api = adminApi(() => address, adminKey);
    await api.createLine('disk-full', demo);
    const first = await api.uploadDataset('disk-full', demo.testSet, 'test', 'before');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const before = await blobFiles(dataDir);

    // Full, but for 32 KiB: less than the calibration set's upload.
    const filler = path.join(dataDir, 'filler');
    await fillUp(filler);
    const { size } = await fs.stat(filler);
    expect((await fs.stat(demo.calibrationSet)).size).toBeGreaterThan(64 * 1024);
    await fs.truncate(filler, size - 32 * 1024);

    const refused = await api.uploadDataset('disk-full', demo.calibrationSet, 'calibration', 'during');
    expect(refused.status, JSON.stringify(refused.body)).toBe(507);
    expect(refused.body).toMatchObject({ code: 'MF_ERR_BLOB_STORE_FULL', statusCode: 507 });
    expect(await api.readyz()).toBe(200); // full is not down: reads and devices keep working

    const after = await blobFiles(dataDir);
    expect(after.temp).toEqual([]);
    expect(after.blobs).toEqual(before.blobs);
    const listed = await api.ok<{ items: { name: string }[] }>('GET', '/v1/models/disk-full/datasets');
    expect(listed.items.map((item) => item.name)).toEqual(['before']);
    const rows = await database!.db.prisma.blob.findMany({ select: { sha256: true } });
    for (const row of rows) expect(after.blobs).toContain(row.sha256);

    await fs.rm(filler);
    const retried = await api.uploadDataset('disk-full', demo.calibrationSet, 'calibration', 'during');
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect((await blobFiles(dataDir)).blobs).toContain((retried.body as { sha256: string }).sha256);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
