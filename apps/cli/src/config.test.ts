import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFilePath, readStoredConfig, resolveConnection, writeStoredConfig } from './config.js';
import { ConfigInvalid, ConnectionMissing, UsageInvalid } from './errors.js';

describe('resolveConnection', () => {
  const file = { server: 'http://file:1', key: 'mfk_file' };
  const env = { MODELFLEET_SERVER: 'http://env:2', MODELFLEET_KEY: 'mfk_env' };

  it('takes the file when nothing overrides it', () => {
    expect(resolveConnection({}, {}, file)).toMatchObject({
      server: 'http://file:1',
      key: 'mfk_file',
      from: { server: 'file', key: 'file' },
    });
  });

  it('lets the environment override the file', () => {
    expect(resolveConnection({}, env, file)).toMatchObject({
      server: 'http://env:2',
      key: 'mfk_env',
      from: { server: 'env', key: 'env' },
    });
  });

  it('lets flags override both, each value on its own', () => {
    expect(resolveConnection({ key: 'mfk_flag' }, env, file)).toMatchObject({
      server: 'http://env:2',
      key: 'mfk_flag',
      from: { server: 'env', key: 'flag' },
    });
    expect(resolveConnection({ server: 'http://flag:3/' }, { MODELFLEET_KEY: 'mfk_env' }, file)).toMatchObject({
      server: 'http://flag:3',
      key: 'mfk_env',
      from: { server: 'flag', key: 'env' },
    });
  });

  it('treats empty values as unset', () => {
    expect(resolveConnection({ server: '' }, { MODELFLEET_SERVER: '' }, file).server).toBe('http://file:1');
  });

  it('says what is missing', () => {
    expect(() => resolveConnection({}, {}, undefined)).toThrow(
      expect.objectContaining({ code: ConnectionMissing.code }),
    );
    expect(() => resolveConnection({}, { MODELFLEET_SERVER: 'http://x' }, undefined)).toThrow(/no API key configured/);
  });

  it('refuses a server that is not an http(s) URL', () => {
    expect(() => resolveConnection({ server: 'ftp://x' }, {}, file)).toThrow(
      expect.objectContaining({ code: UsageInvalid.code }),
    );
    expect(() => resolveConnection({}, { MODELFLEET_SERVER: 'localhost:3000x' }, file)).toThrow(/from env/);
  });
});

describe('config file', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mf-cli-config-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lives under ~/.config unless MODELFLEET_CONFIG (or XDG_CONFIG_HOME) says otherwise', () => {
    expect(configFilePath({}, '/home/ann')).toBe('/home/ann/.config/modelfleet/config.json');
    expect(configFilePath({ XDG_CONFIG_HOME: '/xdg' }, '/home/ann')).toBe('/xdg/modelfleet/config.json');
    expect(configFilePath({ MODELFLEET_CONFIG: '/etc/mf.json', XDG_CONFIG_HOME: '/xdg' }, '/home/ann')).toBe(
      '/etc/mf.json',
    );
  });

  it('is written readable by its owner only and read back', async () => {
    const path = configFilePath({}, home);
    await writeStoredConfig(path, { server: 'http://a:1', key: 'mfk_secret' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, '.config', 'modelfleet'))).mode & 0o777).toBe(0o700);
    expect(await readStoredConfig(path)).toEqual({ server: 'http://a:1', key: 'mfk_secret' });
  });

  it('tightens the mode of a file that existed with looser bits', async () => {
    const path = join(home, 'config.json');
    await writeFile(path, '{}', { mode: 0o644 });
    await writeStoredConfig(path, { server: 'http://a:1', key: 'mfk_secret' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ server: 'http://a:1', key: 'mfk_secret' });
  });

  it('is absent before login, and a broken file fails with its path', async () => {
    const path = join(home, 'config.json');
    expect(await readStoredConfig(path)).toBeUndefined();
    await writeFile(path, 'not json');
    await expect(readStoredConfig(path)).rejects.toMatchObject({
      code: ConfigInvalid.code,
      message: expect.stringContaining(path),
    });
  });
});
