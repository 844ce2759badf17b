import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationsFolderInvalid } from '../errors.js';

/** One folder of prisma/migrations: `<timestamp>_<name>/migration.sql`. */
export interface MigrationFile {
  /** The folder name, e.g. `20261129193000_init`; migrations apply in the order of these names. */
  name: string;
  sql: string;
  /** sha256 (hex) of the SQL with line endings normalised, so a CRLF checkout is not "modified". */
  checksum: string;
}

/** The repository's prisma/migrations (packages are consumed as source, so the path is stable). */
export const defaultMigrationsDir = fileURLToPath(new URL('../../../../prisma/migrations/', import.meta.url));

const folderPattern = /^\d{14}_[a-z0-9_]+$/;

export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads every migration folder, sorted by name. Folders not named `<14 digits>_<name>` are refused. */
export async function readMigrationFiles(migrationsDir: string = defaultMigrationsDir): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationsFolderInvalid(`cannot read ${migrationsDir}`, { cause: error });
  }
  const folders = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of folders) {
    if (!folderPattern.test(name)) {
      throw new MigrationsFolderInvalid(`folder ${name} is not named <yyyymmddhhmmss>_<name>`);
    }
    let sql: string;
    try {
      sql = await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8');
    } catch (error) {
      throw new MigrationsFolderInvalid(`${name}/migration.sql is missing`, { cause: error });
    }
    migrations.push({ name, sql, checksum: migrationChecksum(sql) });
  }
  return migrations;
}
