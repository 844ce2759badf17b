import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKey } from '@modelfleet/signing';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig, parseStatusConfig } from './config.js';
import { AgentConfigInvalid } from './errors.js';

const key = generateSigningKey().publicKeyBase64;

describe('agent configuration', () => {
  it('takes flags over env over the config file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-config-'));
    const file = path.join(dir, 'agent.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        server: 'http://file:1',
        dataDir: '/from-file',
        publicKey: key,
        tags: ['hall-3', 'line-a'],
        deviceId: 'file-id',
      }),
    );
    const config = parseAgentConfig({
      flags: { config: file, 'device-id': 'flag-id' },
      env: { MODELFLEET_AGENT_SERVER: 'http://env:2/', MODELFLEET_AGENT_DEVICE_ID: 'env-id' },
    });
    expect(config.serverUrl).toBe('http://env:2');
    expect(config.deviceId).toBe('flag-id');
    expect(config.dataDir).toBe('/from-file');
    expect(config.tags).toEqual(['hall-3', 'line-a']);
    expect(config.trustedKeys).toHaveLength(1);
    expect(config.installMode).toBe('delivered');
    expect(config.clockSkewSeconds).toBe(300);
    await fs.rm(dir, { recursive: true });
  });

  it('names every problem at once', () => {
    let caught: unknown;
    try {
      parseAgentConfig({
        flags: {
          'public-key': 'AAAA',
          tags: 'Bad Tag',
          'install-mode': 'zip',
          'backoff-cap-seconds': '-1',
          'enrollment-token': 'nope',
        },
        env: {},
      });
    } catch (error) {
      caught = error;
    }
    expect(AgentConfigInvalid.is(caught)).toBe(true);
    const problems = (caught as InstanceType<typeof AgentConfigInvalid>).details?.problems as string[];
    expect(problems.some((p) => p.includes('--server'))).toBe(true);
    expect(problems.some((p) => p.includes('--data-dir'))).toBe(true);
    expect(problems.some((p) => p.includes('--public-key') && p.includes('32 bytes'))).toBe(true);
    expect(problems.some((p) => p.includes('--tags'))).toBe(true);
    expect(problems.some((p) => p.includes('--install-mode'))).toBe(true);
    expect(problems.some((p) => p.includes('--backoff-cap-seconds'))).toBe(true);
    expect(problems.some((p) => p.includes('--enrollment-token'))).toBe(true);
  });

  it('refuses unknown keys in the config file and a missing file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-config-'));
    const file = path.join(dir, 'agent.json');
    await fs.writeFile(file, JSON.stringify({ serverUrl: 'http://x' }));
    expect(() => parseStatusConfig({ flags: { config: file, 'data-dir': dir }, env: {} })).toThrow(
      /unknown key "serverUrl"/,
    );
    expect(() =>
      parseStatusConfig({ flags: { config: path.join(dir, 'missing.json'), 'data-dir': dir }, env: {} }),
    ).toThrow(/ENOENT/);
    expect(parseStatusConfig({ flags: {}, env: { MODELFLEET_AGENT_DATA_DIR: dir } }).dataDir).toBe(dir);
    await fs.rm(dir, { recursive: true });
  });
});
