import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFiles, type DemoFiles } from '../support/demo-data.js';
import { serverAddress, startServer, type RunningProcess } from '../support/processes.js';
import { adminApi, blobFiles, newAdminKey, type Answer } from './support/api.js';
import { startPrivatePostgres, waitFor, type PrivatePostgres } from './support/private-services.js';

/**
 * PostgreSQL goes away under a running server (its own private instance, stopped with `pg_ctl -m fast`, which
 * ends every session) while dataset uploads keep arriving, and comes back. /readyz says not-ready (503) while
 * it is down and ready again after; every upload either answered 201 and is recorded in full (row, blob row,
 * blob file) or was refused with a clean JSON error and left no row; an upload retried afterwards works.
 */
describe('PostgreSQL restarted under a running server', () => {
  let workDir = '';
  let demo: DemoFiles;
  let postgres: PrivatePostgres;
  let server: RunningProcess | undefined;

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-fault-pgrestart-'));
    [demo, postgres] = await Promise.all([writeDemoFiles(workDir), startPrivatePostgres()]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await postgres?.cleanup();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('turns /readyz not-ready and back, and half-applies no upload', async () => {
    const dataDir = path.join(workDir, 'server');
    const adminKey = newAdminKey();
    server = startServer({
      MODELFLEET_DATA_DIR: dataDir,
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: postgres.url,
      REDIS_URL: undefined,
    });
    const address = await serverAddress(server);
    const api = adminApi(() => address, adminKey);
    await api.createLine('pg-restart', demo);
    expect(await api.readyz()).toBe(200);

    // Uploads in two loops for as long as the outage lasts; each upload has a name of its own.
    const answers: { name: string; answer: Answer<Record<string, unknown>> | { status: 0; body: string } }[] = [];
    let uploading = true;
    let sequence = 0;
    const loop = async () => {
      while (uploading) {
        const name = `set-${sequence++}`;
        const answer = await api
          .uploadDataset('pg-restart', demo.testSet, 'test', name)
          .catch((error: unknown) => ({ status: 0 as const, body: String(error) }));
        answers.push({ name, answer });
      }
    };
    const loops = [loop(), loop()];
    await waitFor('a first upload recorded', () => answers.some(({ answer }) => answer.status === 201));

    await postgres.stop('fast');
    const downAt = answers.length;
    const notReady = await waitFor('/readyz not-ready', async () => {
      const response = await fetch(`${address}/readyz`);
      return response.status === 503 ? ((await response.json()) as { checks: Record<string, { ok: boolean }> }) : false;
    });
    expect(notReady.checks.database!.ok).toBe(false);
    expect(notReady.checks.blobs!.ok).toBe(true);
    await waitFor('uploads refused while PostgreSQL is down', () => answers.length >= downAt + 4);

    await postgres.start();
    await waitFor('/readyz ready again', async () => (await api.readyz()) === 200, 60_000);
    const upAt = answers.length;
    await waitFor('uploads accepted again', () => answers.slice(upAt).some(({ answer }) => answer.status === 201));
    uploading = false;
    await Promise.all(loops);

    const accepted = answers.filter(({ answer }) => answer.status === 201).map(({ name }) => name);
    const refused = answers.filter(({ answer }) => answer.status !== 201);
    expect(refused.length).toBeGreaterThan(0);
    for (const { answer } of refused) {
      // A refusal is clean: the server answered with one of our error codes and a server-side status, or it
      // answered while the body was still on its way and closed the connection (it does so after an early
      // error answer, so an unread body cannot stall the next request), which the client may see as a reset
      // before it reads the answer. Either way nothing may be recorded: checked below.
      if (answer.status === 0) {
        expect(answer.body).toMatch(/fetch failed|ECONNRESET|EPIPE|other side closed|socket/i);
        continue;
      }
      // The database down is "come back later", not a server bug: 503 with the database's own code.
      // On anything else, the server's own account of its unexpected errors is in the failure message.
      const unexpected = () =>
        JSON.stringify(
          (server?.lines ?? []).filter((line) => line['msg'] === 'unexpected error').map((line) => line['err']),
        );
      expect(answer.status, `${JSON.stringify(answer.body)} ${answer.status === 503 ? '' : unexpected()}`).toBe(503);
      expect((answer.body as { code?: string }).code, JSON.stringify(answer.body)).toMatch(
        /^MF_ERR_DB_(UNAVAILABLE|BUSY)$/,
      );
    }

    // Recorded: exactly the accepted uploads, each with its blob on disk.
    const listed = await api.ok<{ items: { name: string; sha256: string }[] }>('GET', '/v1/models/pg-restart/datasets');
    expect(listed.items.map((item) => item.name).sort()).toEqual([...accepted].sort());
    const { blobs } = await blobFiles(dataDir);
    for (const item of listed.items) {
      expect(blobs).toContain(item.sha256);
    }

    // The uploads refused during the outage work when retried.
    const retried = await api.uploadDataset('pg-restart', demo.testSet, 'test', refused[0]!.name);
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
