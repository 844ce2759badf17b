import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type pg from 'pg';
import type { Database } from '../database.js';
import { defaultMigrationsDir, readMigrationFiles } from '../migrations/migration-files.js';
import { migrationsTable } from '../migrations/migrate.js';
import { createIntrospectionPool } from './introspection-pool.js';
import { openSchemaEngine, type DiffTarget, type MigrationList, type SchemaFilter } from './schema-engine.js';

/** The repository's prisma/schema.prisma. */
export const defaultSchemaPath = fileURLToPath(new URL('../../../../prisma/schema.prisma', import.meta.url));

/** Our migrations table is not part of the data model; the engine must not propose to drop it. */
function filtersFor(schema: string): SchemaFilter {
  return { externalTables: [`${schema}.${migrationsTable}`], externalEnums: [] };
}

export interface SchemaSources {
  schemaPath?: string;
  migrationsDir?: string;
}

/**
 * Adapter factory whose shadow databases are fresh in-memory PGlite instances (the engine replays
 * migrations there to learn what they produce). We open and close them ourselves: the adapter's own
 * `connectToShadowDb` never closes its PGlite.
 */
function withPgliteShadows(connect: (() => Promise<SqlDriverAdapter>) | undefined) {
  const instances: PGlite[] = [];
  const connectToScratch = async () => {
    const scratch = await PGlite.create();
    instances.push(scratch);
    return new PrismaPGlite(scratch).connect();
  };
  // Without a live database the engine's "main" connection is never read, only opened when the
  // engine starts; it shares the first shadow's PGlite, which saves one initdb (~3 s).
  let scratchForMain: Promise<SqlDriverAdapter> | undefined;
  let shared = false;
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: 'modelfleet-schema-diff',
    connect: connect ?? (() => (scratchForMain ??= connectToScratch())),
    async connectToShadowDb() {
      if (scratchForMain === undefined || shared) return connectToScratch();
      shared = true;
      await scratchForMain;
      return new PrismaPGlite(instances[0]!).connect();
    },
  };
  const closeShadows = async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.close()));
  };
  return { factory, closeShadows };
}

async function loadSchemaFile(schemaPath: string) {
  return { path: basename(schemaPath), content: await readFile(schemaPath, 'utf8') };
}

export async function loadMigrationList(migrationsDir: string = defaultMigrationsDir): Promise<MigrationList> {
  const migrations = await readMigrationFiles(migrationsDir);
  let lockfile: string | null = null;
  try {
    lockfile = await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8');
  } catch {
    lockfile = null;
  }
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    shadowDbInitScript: '',
    migrationDirectories: migrations.map((migration) => ({
      path: migration.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: migration.sql } },
    })),
  };
}

async function diff(
  connect: (() => Promise<SqlDriverAdapter>) | undefined,
  schema: string,
  schemaPath: string,
  from: (schemaFile: { path: string; content: string }) => Promise<DiffTarget>,
): Promise<string> {
  const schemaFile = await loadSchemaFile(schemaPath);
  const { factory, closeShadows } = withPgliteShadows(connect);
  const engine = await openSchemaEngine(schemaFile, factory);
  try {
    const result = await engine.diff({
      from: await from(schemaFile),
      to: { tag: 'schemaDatamodel', files: [schemaFile] },
      script: true,
      exitCode: null,
      filters: filtersFor(schema),
    });
    return normaliseScript(result.stdout ?? '');
  } finally {
    engine.free();
    await closeShadows();
  }
}

/** The engine answers an empty diff with a comment line only; make "nothing to do" the empty string. */
function normaliseScript(script: string): string {
  const meaningful = script
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('--'))
    .join('\n');
  return meaningful === '' ? '' : script;
}

/** SQL that turns the database the migrations build into what schema.prisma describes ('' if none). */
export async function diffMigrationsToSchema(sources: SchemaSources = {}): Promise<string> {
  const migrationList = await loadMigrationList(sources.migrationsDir);
  return diff(undefined, 'public', sources.schemaPath ?? defaultSchemaPath, async () => ({
    tag: 'migrations',
    ...migrationList,
  }));
}

/** SQL that turns a live (migrated) database into what schema.prisma describes ('' if none). */
export async function diffDatabaseToSchema(db: Database, sources: SchemaSources = {}): Promise<string> {
  const driver = db.driver;
  const introspectionPool = driver.kind === 'postgres' ? createIntrospectionPool(driver.pool) : undefined;
  const connect =
    driver.kind === 'pglite'
      ? () => new PrismaPGlite(driver.pglite).connect()
      : () => new PrismaPg(introspectionPool as pg.Pool, { schema: driver.schema }).connect();
  try {
    return await diff(connect, driver.schema, sources.schemaPath ?? defaultSchemaPath, async (schemaFile) => ({
      tag: 'schemaDatasource',
      files: [schemaFile],
      configDir: '.',
    }));
  } finally {
    await introspectionPool?.end();
  }
}
