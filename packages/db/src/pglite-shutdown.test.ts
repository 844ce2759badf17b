import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import { createTestDatabase } from './testing/index.js';

const fixture = fileURLToPath(new URL('./test-fixtures/pglite-process.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A migrated PGlite folder (a copy of the test template, which saves each child an initdb), closed. */
async function closedDataDir(): Promise<string> {
  const testDb = await createTestDatabase('pglite');
  cleanups.push(() => testDb.cleanup());
  await testDb.db.close();
  if (testDb.config.kind !== 'pglite') throw new Error('expected PGlite');
  return testDb.config.dataDir;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the fixture under tsx; `onReady` is called when it prints "ready". */
function runFixture(dataDir: string, mode: 'run' | 'serve', onReady?: (pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, mode], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready') && child.pid !== undefined) onReady?.(child.pid);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

async function linesIn(dataDir: string): Promise<number> {
  const db = await createDatabase({ kind: 'pglite', dataDir });
  try {
    return await db.prisma.modelLine.count();
  } finally {
    await db.close();
  }
}

describe('PGlite in a process of its own', () => {
  it('exits 0 after close(), and the data is there when the folder is opened again', async () => {
    const dataDir = await closedDataDir();

    const exit = await runFixture(dataDir, 'run');
    expect(exit, exit.stderr).toMatchObject({ code: 0, signal: null });
    expect(await linesIn(dataDir)).toBe(1);
  });

  it('closes on SIGTERM (twice at once), exits 0, and a restart finds the folder consistent', async () => {
    const dataDir = await closedDataDir();

    const exit = await runFixture(dataDir, 'serve', (pid) => process.kill(pid, 'SIGTERM'));
    expect(exit, exit.stderr).toMatchObject({ code: 0, signal: null });

    const again = await runFixture(dataDir, 'run');
    expect(again, again.stderr).toMatchObject({ code: 0, signal: null });
    expect(await linesIn(dataDir)).toBe(2);
  });
});
