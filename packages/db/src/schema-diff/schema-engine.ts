import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as SchemaEngineWasm from '@prisma/schema-engine-wasm';

/**
 * Loads Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm). The package's
 * entry imports the .wasm file as an ES module, which Node 20 cannot do without
 * --experimental-wasm-modules, so we instantiate the module ourselves and hand it to the
 * wasm-bindgen glue (`schema_engine_bg.js`), which is what the entry does. The glue keeps the
 * instance in module state, so this runs once per process.
 */
type Glue = typeof SchemaEngineWasm & {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
};

// The project's lib settings (ES2023, no DOM) carry no WebAssembly types; this is the part we use.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let loading: Promise<Glue> | undefined;

async function loadGlue(): Promise<Glue> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const glue = (await import(gluePath)) as Glue;
  const bytes = await readFile(join(dirname(gluePath), 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, {
    './schema_engine_bg.js': glue as unknown as Record<string, unknown>,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

export type SchemaEngine = SchemaEngineWasm.SchemaEngine;
export type { DiffTarget, MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';

/** A schema engine talking to the database behind `adapterFactory` (and its shadow databases). */
export async function openSchemaEngine(
  schemaFile: { path: string; content: string },
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
): Promise<SchemaEngine> {
  loading ??= loadGlue();
  const glue = await loading;
  return glue.SchemaEngine.new(
    { datamodels: [[schemaFile.path, schemaFile.content]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
