/**
 * The Prisma CLI, offline: `tsx scripts/prisma.ts generate` (npm run generate), `… format`.
 * Prisma 7's CLI wants a schema engine binary before it generates anything and downloads one when
 * none is configured, which fails without general internet. Neither `generate` nor `format` runs
 * that binary, so any existing file satisfies the check (DESIGN.md, "Prisma 7 facts"); we point it
 * at this Node executable unless the caller set one. (`migrate`/`db push` do need the real engine:
 * use scripts/migration-diff.ts and src/migrations/migrate.ts instead.)
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const packageDir = fileURLToPath(new URL('..', import.meta.url));

const child = spawn(process.execPath, [prismaCli, ...process.argv.slice(2)], {
  cwd: packageDir,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
