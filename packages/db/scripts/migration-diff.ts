/**
 * Writes a new migration: the SQL that takes the database the existing migrations build to what
 * prisma/schema.prisma describes, computed in-process by Prisma's wasm schema engine (the native
 * engine `prisma migrate dev` needs cannot be downloaded here).
 *
 *   npm run migration:new -w @modelfleet/db -- <name>     write prisma/migrations/<timestamp>_<name>/
 *   npm run migration:check -w @modelfleet/db             exit 1 when schema.prisma has unmigrated changes
 */
import { mkdir, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultMigrationsDir } from '../src/migrations/migration-files.js';
import { diffMigrationsToSchema } from '../src/schema-diff/schema-diff.js';

const lockfileContent = `# The database provider of these migrations; written by packages/db/scripts/migration-diff.ts.
provider = "postgresql"
`;

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function main(args: string[]): Promise<number> {
  const check = args.includes('--check');
  const name = args.find((arg) => !arg.startsWith('--'));
  // The first migration starts from none; the engine reads the provider from the lockfile.
  await mkdir(defaultMigrationsDir, { recursive: true });
  const lockfile = join(defaultMigrationsDir, 'migration_lock.toml');
  await access(lockfile).catch(() => writeFile(lockfile, lockfileContent));
  const sql = await diffMigrationsToSchema();

  if (check) {
    if (sql === '') {
      console.log('prisma/schema.prisma and prisma/migrations agree.');
      return 0;
    }
    console.error('prisma/schema.prisma has changes no migration makes yet:\n\n' + sql);
    console.error('Write one with: npm run migration:new -w @modelfleet/db -- <name>');
    return 1;
  }
  if (name === undefined) {
    console.error('usage: npm run migration:new -w @modelfleet/db -- <name>');
    return 2;
  }
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '') {
    console.error(`not a usable migration name: ${JSON.stringify(name)}`);
    return 2;
  }
  if (sql === '') {
    console.log('prisma/schema.prisma and prisma/migrations already agree: no migration written.');
    return 0;
  }

  const folder = join(defaultMigrationsDir, `${timestamp(new Date())}_${slug}`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'migration.sql'), sql.endsWith('\n') ? sql : sql + '\n');
  console.log(`wrote ${folder}/migration.sql`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
