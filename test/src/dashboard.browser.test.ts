import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CreatedEnrollmentToken, Enrolled, ModelVersion, RolloutView, UpdateAnswer } from '@modelfleet/contracts';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoLineArgs, writeDemoFiles } from './support/demo-data.js';
import { repoRoot, runCli, serverAddress, startServer, type RunningProcess } from './support/processes.js';

/** Where the screenshot goes (git-ignored). */
const ARTIFACTS = path.join(repoRoot, 'test-artifacts');

/** Debian's chromium, headless, with nothing that reaches for the network on its own. */
async function launchBrowser(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Parses the Prometheus text into `name{labels}` -> value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/**
 * Issue 7, acceptance 3 (and 4 for a server process): the dashboard in a real browser against a server
 * process. Devices are simulated through the device API (poll, download, report), so the test decides
 * when each report arrives and checks that the page follows without a reload.
 */
describe('the dashboard in a browser', () => {
  let workDir = '';
  let server: RunningProcess;
  let address = '';
  let context: BrowserContext;
  let page: Page;
  let version: ModelVersion;
  const adminKey = `mfk_${randomBytes(4).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const LINE = 'belt';

  const api = async <T>(method: string, url: string, body?: unknown, token = adminKey): Promise<T> => {
    const response = await fetch(`${address}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.status, `${method} ${url}: ${text}`).toBeLessThan(300);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const metrics = async () => {
    const response = await fetch(`${address}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };
  const cli = async (...args: string[]) => {
    const result = await runCli(args, {
      MODELFLEET_SERVER: address,
      MODELFLEET_KEY: adminKey,
      MODELFLEET_CONFIG: path.join(workDir, 'cli.json'),
    });
    expect(result.code, `modelfleet ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };
  /** Polls until `check` passes or the deadline passes (then the last failure is thrown). */
  const eventually = async <T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  };

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-e2e-dashboard-'));
    const demo = await writeDemoFiles(workDir);
    server = startServer({
      MODELFLEET_DATA_DIR: path.join(workDir, 'server'),
      MODELFLEET_ADMIN_KEY: adminKey,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      DEVICE_POLL_AFTER_SECONDS: '1',
      DEVICE_RELEASE_CACHE_TTL_MS: '200',
    });
    address = await serverAddress(server, 240_000);
    await cli(...demoLineArgs(LINE, demo, '--no-auto-publish'));
    await cli('datasets', 'add', demo.testSet, '--line', LINE, '--role', 'test');
    version = JSON.parse(await cli('upload', demo.modelDir, '--line', LINE, '--wait', '--json')) as ModelVersion;
    expect(version.status).toBe('ready');
    context = await launchBrowser(path.join(workDir, 'chromium-profile'));
    page = context.pages()[0] ?? (await context.newPage());
    // A bound, not a wait: one optimize job on two cores that the whole team shares.
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop('SIGKILL');
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('shows the candidates with the winner, then a rollout progressing live; pause acts on the API', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${address}/dashboard`);
    await page.fill('#api-key', adminKey);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#live[data-status="live"]', { timeout: 30_000 });
    // A reload would lose this: the page must follow every change in place.
    await page.evaluate(() => {
      (globalThis as { notReloaded?: boolean }).notReloaded = true;
    });

    // Model lines: the candidate table with the winner, and the chart with the winner marked.
    const winner = version.candidates.find((candidate) => candidate.winner)!;
    await page.waitForSelector(`[data-line="${LINE}"] tr.winner[data-variant="${winner.variant}"]`, {
      timeout: 30_000,
    });
    expect(await page.locator(`[data-line="${LINE}"] table.candidates tbody tr`).count()).toBe(
      version.candidates.length,
    );
    expect(await page.locator(`[data-line="${LINE}"] svg.chart .marker`).count()).toBe(version.candidates.length);
    expect(await page.locator(`[data-line="${LINE}"] svg.chart .marker.winner`).getAttribute('data-variant')).toBe(
      winner.variant,
    );

    await fs.mkdir(ARTIFACTS, { recursive: true });
    const linesShot = path.join(ARTIFACTS, 'dashboard-lines.png');
    await page.screenshot({ path: linesShot, fullPage: true });
    console.log(`dashboard screenshot: ${linesShot}`);

    // Four simulated devices, enrolled before the rollout; half of them form the first wave.
    const enrollment = await api<CreatedEnrollmentToken>('POST', '/v1/enrollment-tokens', {
      name: 'hall 7',
      scope: { line: LINE, channel: 'stable' },
    });
    const devices = new Map<string, string>();
    for (const name of ['belt-1', 'belt-2', 'belt-3', 'belt-4']) {
      const enrolled = await api<Enrolled>('POST', '/v1/device/enroll', { deviceId: name }, enrollment.token);
      devices.set(name, enrolled.deviceToken);
    }
    const before = await metrics();
    const rollout = await api<RolloutView>('POST', '/v1/rollouts', {
      line: LINE,
      version: version.id,
      waves: [{ percent: 50 }, { percent: 100 }],
      errorThreshold: { count: 2 },
    });

    await page.click('#tabs button[data-tab="rollouts"]');
    const card = page.locator(`[data-rollout="${rollout.id}"]`);
    await card.waitFor({ timeout: 30_000 });
    const shown = (wave: number, count: string) =>
      card.locator(`[data-wave="${wave}"] [data-count="${count}"]`).textContent({ timeout: 5_000 });
    // Locators, not functions evaluated from strings: the page's CSP forbids eval, and that holds for tests too.
    const untilShown = (wave: number, count: string, text: string) =>
      card
        .locator(`[data-wave="${wave}"] [data-count="${count}"]`, { hasText: new RegExp(`^${text}$`) })
        .waitFor({ timeout: 30_000 });

    /** One poll of a simulated device: the offer's release, or null when it is not offered anything. */
    const poll = async (name: string) => {
      const response = await fetch(`${address}/v1/device/update`, {
        headers: { authorization: `Bearer ${devices.get(name)}` },
      });
      if (response.status !== 200) return null;
      return (await response.json()) as UpdateAnswer;
    };
    const report = (name: string, state: string, extra: Record<string, unknown> = {}) =>
      api('POST', '/v1/device/reports', { state, idempotencyKey: randomUUID(), ...extra }, devices.get(name));
    /** Polls every device not yet moved; the ones offered the rollout's release are this wave's. */
    const offered = async (moved: Set<string>) =>
      eventually(async () => {
        const names: string[] = [];
        for (const name of devices.keys()) {
          if (moved.has(name)) continue;
          const answer = await poll(name);
          if (answer !== null) names.push(name);
        }
        expect(names.length).toBeGreaterThan(0);
        return names;
      });
    const install = async (name: string, answer: { release: number; sha256: string }) => {
      await report(name, 'downloading', { release: answer.release, artifactSha256: answer.sha256 });
      const blob = await fetch(`${address}/v1/blobs/${answer.sha256}`, {
        headers: { authorization: `Bearer ${devices.get(name)}` },
      });
      expect(blob.status).toBe(200);
      const bytes = (await blob.arrayBuffer()).byteLength;
      bytesFetched += bytes;
      await report(name, 'installed', {
        release: answer.release,
        artifactSha256: answer.sha256,
        download: { kind: 'full', bytes },
        smokeLatencyMs: 4.2,
      });
    };
    let bytesFetched = 0;
    const target = { release: rollout.release, sha256: rollout.artifactSha256 };

    const moved = new Set<string>();
    const firstWave = await offered(moved);
    expect(firstWave).toHaveLength(2);
    expect(await shown(0, 'total')).toBe('of 2');
    for (const [index, name] of firstWave.entries()) {
      await install(name, target);
      moved.add(name);
      // The page follows each report without a reload.
      await untilShown(0, 'succeeded', `succeeded ${index + 1}`);
    }
    // The first wave succeeded: the rollout moves on by itself, and the page shows the second wave open.
    await page.waitForSelector(`[data-rollout="${rollout.id}"] [data-wave="1"][data-state="running"]`, {
      timeout: 30_000,
    });
    const secondWave = await offered(moved);
    expect(secondWave).toHaveLength(2);
    await install(secondWave[0]!, target);
    await untilShown(1, 'succeeded', 'succeeded 1');

    // A key with only the read scope sees everything, but the API refuses its pause, and the page says so.
    const reader = await api<{ key: string }>('POST', '/v1/api-keys', { name: 'viewer', scopes: ['read'] });
    const viewer = await context.newPage();
    await viewer.goto(`${address}/dashboard/#rollouts`);
    await viewer.fill('#api-key', reader.key);
    await viewer.click('#key-form button[type=submit]');
    const viewerCard = viewer.locator(`[data-rollout="${rollout.id}"]`);
    await viewerCard.locator('button[data-action="pause"]').click({ timeout: 30_000 });
    await viewerCard.locator('[data-role="message"]', { hasText: 'MF_ERR_SCOPE_MISSING' }).waitFor({ timeout: 30_000 });
    expect((await api<RolloutView>('GET', `/v1/rollouts/${rollout.id}`)).state).toBe('running');
    await viewer.close();

    // The operator pauses: the page shows it, and so does the API.
    await card.locator('button[data-action="pause"]').click();
    await page.waitForSelector(`[data-rollout="${rollout.id}"][data-state="paused"]`, { timeout: 30_000 });
    expect((await api<RolloutView>('GET', `/v1/rollouts/${rollout.id}`)).state).toBe('paused');
    await card.locator('button[data-action="resume"]').waitFor({ timeout: 5_000 });
    // The open wave says paused too (the API keeps it running: it resumes where it stopped).
    expect(await card.locator('[data-wave="1"] .wave-head .badge').textContent()).toBe('paused');

    // Devices: release, state and smoke-test latency of the ones that installed.
    await page.click('#tabs button[data-tab="devices"]');
    await page.waitForSelector(`[data-device="${firstWave[0]}"][data-state="installed"]`, { timeout: 30_000 });
    expect(await page.locator(`[data-device="${firstWave[0]}"] [data-role="release"]`).textContent()).toBe(
      `#${rollout.release}`,
    );

    await page.click('#tabs button[data-tab="rollouts"]');
    const screenshot = path.join(ARTIFACTS, 'dashboard-rollout.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`dashboard screenshot: ${screenshot}`);

    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(pageErrors).toEqual([]);

    // /metrics of the server process moved with the flow: polls, bytes, the optimize job, rollout states.
    const after = await metrics();
    const moved200 =
      (after.get('modelfleet_device_polls_total{status="200"}') ?? 0) -
      (before.get('modelfleet_device_polls_total{status="200"}') ?? 0);
    expect(moved200).toBeGreaterThanOrEqual(3);
    expect(bytesFetched).toBeGreaterThan(0);
    expect(
      (after.get('modelfleet_blob_bytes_served_total{kind="full"}') ?? 0) -
        (before.get('modelfleet_blob_bytes_served_total{kind="full"}') ?? 0),
    ).toBe(bytesFetched);
    expect(after.get('modelfleet_jobs_finished_total{job="optimize",outcome="completed"}')).toBe(1);
    expect(after.get('modelfleet_rollouts{state="paused"}')).toBe(1);
    expect(
      after.get(`modelfleet_devices_per_release{line="${LINE}",channel="stable",release="${rollout.release}"}`),
    ).toBe(3);
  });
});
