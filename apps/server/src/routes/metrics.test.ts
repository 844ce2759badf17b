import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '@modelfleet/jobs';
import { createTestEnrollmentToken, enrollTestDevice, publishTestRelease } from '../devices/test-fleet.js';
import { createLine } from '../testing/api.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/** Parses the exposition text into `name{labels}` -> value (labels in the order written). */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  let server: TestServer;
  let readKey: string;
  const LINE = 'metrics-line';

  beforeAll(async () => {
    server = await startTestServer();
    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: server.auth(),
      payload: { name: 'prometheus', scopes: ['read'] },
    });
    readKey = created.json<{ key: string }>().key;
  }, 60_000);
  afterAll(() => server.close());

  const scrape = async () => {
    const response = await server.app.inject({ method: 'GET', url: '/metrics', headers: server.auth(readKey) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return { text: response.body, samples: parseExposition(response.body) };
  };

  it('needs an API key with the read scope', async () => {
    const none = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.json<{ code: string }>().code).toBe('MF_ERR_CREDENTIAL_MISSING');
  });

  it('declares every family once with HELP and TYPE, and every sample belongs to a declared family', async () => {
    const { text } = await scrape();
    const declared = new Map<string, string>();
    for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      expect(declared.has(match[1]!)).toBe(false);
      declared.set(match[1]!, match[2]!);
    }
    for (const name of declared.keys()) expect(text).toMatch(new RegExp(`^# HELP ${name} .+$`, 'm'));
    for (const line of text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))) {
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
      const family = [...declared.keys()].find(
        (family) =>
          name === family ||
          (declared.get(family) === 'histogram' && /_(bucket|sum|count)$/.test(name) && name.startsWith(family)),
      );
      expect(family, line).toBeDefined();
      expect(line).toMatch(/^\S+(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/);
    }
    expect(declared.get('modelfleet_device_polls_total')).toBe('counter');
    expect(declared.get('modelfleet_rollouts')).toBe('gauge');
    expect(declared.get('modelfleet_job_duration_seconds')).toBe('histogram');
  });

  it('counts polls (200, 304, 204), bytes served, downloads, jobs and devices per release as they happen', async () => {
    const before = (await scrape()).samples;
    const at = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

    // A device with no release yet: 204.
    await createLine(server, LINE);
    const { token } = await createTestEnrollmentToken(server, { line: LINE });
    const lonely = await enrollTestDevice(server, token, 'metrics-1');
    const poll = (deviceToken: string, current?: string) =>
      server.app.inject({
        method: 'GET',
        url: `/v1/device/update${current === undefined ? '' : `?current=${current}`}`,
        headers: { authorization: `Bearer ${deviceToken}` },
      });
    expect((await poll(lonely.deviceToken)).statusCode).toBe(204);
    const { release, bytes } = await publishTestRelease(server, LINE, { viaApi: true });
    // An offer (200), the download of its artifact, then 304 once the device runs it.
    expect((await poll(lonely.deviceToken)).statusCode).toBe(200);
    const download = await server.app.inject({
      method: 'GET',
      url: `/v1/blobs/${release.artifactSha256}`,
      headers: { authorization: `Bearer ${lonely.deviceToken}` },
    });
    expect(download.statusCode).toBe(200);
    // What the agent sends: `downloaded`, then `installed` repeating the download's figures (counted once).
    for (const [state, extra] of [
      ['downloaded', {}],
      ['installed', { smokeLatencyMs: 3.5 }],
    ] as const) {
      const report = await server.app.inject({
        method: 'POST',
        url: '/v1/device/reports',
        headers: { authorization: `Bearer ${lonely.deviceToken}` },
        payload: {
          state,
          idempotencyKey: `metrics-${state}-1`,
          release: release.number,
          artifactSha256: release.artifactSha256,
          download: { kind: 'full', bytes: bytes.length },
          ...extra,
        },
      });
      expect(report.statusCode).toBeLessThan(300);
    }
    expect((await poll(lonely.deviceToken, release.artifactSha256)).statusCode).toBe(304);

    // A job that completes and one that fails for good.
    const digested = await server.services.queue.enqueue('blob.digest', { sha256: release.artifactSha256 });
    await waitForJob(server.services.queue, digested.jobId, { timeoutMs: 20_000 });
    const missing = await server.services.queue.enqueue('blob.digest', { sha256: 'f'.repeat(64) });
    expect((await waitForJob(server.services.queue, missing.jobId, { timeoutMs: 20_000 })).state).toBe('failed');

    const after = (await scrape()).samples;
    const moved = (key: string) => at(after, key) - at(before, key);
    expect(moved('modelfleet_device_polls_total{status="204"}')).toBe(1);
    expect(moved('modelfleet_device_polls_total{status="200"}')).toBe(1);
    expect(moved('modelfleet_device_polls_total{status="304"}')).toBe(1);
    expect(moved('modelfleet_blob_bytes_served_total{kind="full"}')).toBe(bytes.length);
    expect(moved('modelfleet_blob_responses_total{status="200"}')).toBe(1);
    expect(moved('modelfleet_device_downloads_total{kind="full"}')).toBe(1);
    expect(moved('modelfleet_device_download_bytes_total{kind="full"}')).toBe(bytes.length);
    expect(moved('modelfleet_jobs_finished_total{job="blob.digest",outcome="completed"}')).toBe(1);
    expect(moved('modelfleet_jobs_finished_total{job="blob.digest",outcome="failed"}')).toBe(1);
    expect(moved('modelfleet_job_duration_seconds_count{job="blob.digest",outcome="completed"}')).toBe(1);
    expect(
      [...after.keys()].some((key) => key.startsWith('modelfleet_job_failures_total{job="blob.digest",code="MF_ERR_')),
    ).toBe(true);
    expect(
      after.get(`modelfleet_devices_per_release{line="${LINE}",channel="stable",release="${release.number}"}`),
    ).toBe(1);
    expect(moved('modelfleet_devices{state="installed"}')).toBe(1);
    expect(after.get('modelfleet_rollouts{state="running"}')).toBe(0);
  }, 60_000);
});
