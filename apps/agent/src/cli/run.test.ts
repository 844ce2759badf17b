import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKey } from '@modelfleet/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBundle, signedAnswer, startFakeDeviceServer, type FakeDeviceServer } from '../testing/index.js';
import { EXIT, runAgentCli } from './run.js';

function io(env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (t: string) => void (stdout += t),
      stderr: (t: string) => void (stderr += t),
      env,
      signal: new AbortController().signal,
    },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('modelfleet-agent command line', () => {
  const key = generateSigningKey();
  let server: FakeDeviceServer;
  let dataDir = '';
  beforeAll(async () => {
    server = await startFakeDeviceServer();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-cli-'));
  });
  afterAll(() => server.close());

  it('usage errors and configuration problems exit 2 and name every problem', async () => {
    const none = io();
    expect(await runAgentCli([], none.io)).toBe(EXIT.usage);
    expect(none.err()).toContain('usage: modelfleet-agent');
    const unknown = io();
    expect(await runAgentCli(['check', '--no-such-flag'], unknown.io)).toBe(EXIT.usage);
    const bad = io();
    expect(await runAgentCli(['check', '--server', 'ftp://x'], bad.io)).toBe(EXIT.usage);
    expect(bad.err()).toMatch(/--server: not an http\(s\) URL[\s\S]*--data-dir[\s\S]*--public-key/);
  });

  it('check without a token exits 4; with a server down exits 3; status --json shows the install', async () => {
    const flags = ['--server', server.url, '--data-dir', dataDir, '--public-key', key.publicKeyBase64];
    const notEnrolled = io();
    expect(await runAgentCli(['check', ...flags], notEnrolled.io)).toBe(EXIT.notEnrolled);
    expect(notEnrolled.err()).toContain('MF_ERR_AGENT_NOT_ENROLLED');

    server.down = true;
    const down = io({ MODELFLEET_AGENT_ENROLLMENT_TOKEN: 'mfe_cli' });
    expect(await runAgentCli(['check', ...flags], down.io)).toBe(EXIT.server);
    server.down = false;

    const bundle = demoBundle();
    server.blobs.set(bundle.sha256, bundle.bytes);
    server.answer = signedAnswer({ key, bundle, release: 4 });
    const check = io({ MODELFLEET_AGENT_ENROLLMENT_TOKEN: 'mfe_cli' });
    expect(await runAgentCli(['check', '--json', ...flags], check.io)).toBe(EXIT.installed);
    expect(JSON.parse(check.out())).toMatchObject({ kind: 'installed', release: 4, sha256: bundle.sha256 });

    const status = io();
    expect(await runAgentCli(['status', '--json', '--data-dir', dataDir], status.io)).toBe(EXIT.ok);
    expect(JSON.parse(status.out())).toMatchObject({
      enrolled: true,
      line: 'sorter',
      current: { release: 4, sha256: bundle.sha256 },
      previous: null,
      lastOutcome: 'installed',
      lastError: null,
      pendingReports: 0,
    });
    const again = io();
    expect(await runAgentCli(['check', ...flags], again.io)).toBe(EXIT.ok);
    expect(again.out()).toContain('up to date (release 4)');
  });
});
