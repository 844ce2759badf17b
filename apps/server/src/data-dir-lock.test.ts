import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.js';

describe('lockDataDir', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'mf-lock-')), 'data');
  });
  afterEach(async () => {
    await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  const lockFile = () => path.join(dataDir, 'server.pid');

  it('creates the folder, writes this pid and removes the lock on release', async () => {
    const lock = await lockDataDir(dataDir);
    expect(await fs.readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    await expect(fs.stat(lockFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a folder another live process holds: MF_ERR_DATA_DIR_LOCKED naming it', async () => {
    await fs.mkdir(dataDir, { recursive: true });
    // The parent of this test process (the vitest runner) is alive for as long as the test runs.
    await fs.writeFile(lockFile(), `${process.ppid}\n`);
    await expect(lockDataDir(dataDir)).rejects.toMatchObject({
      code: 'MF_ERR_DATA_DIR_LOCKED',
      message: expect.stringContaining(String(process.ppid)),
    });
    expect(await fs.readFile(lockFile(), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('takes over a lock left by a process that has exited', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(lockFile(), `${pid}\n`);
    const lock = await lockDataDir(dataDir);
    expect(await fs.readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });
});
