// Prisma's schema engine compiled to WASM, driven offline: the `migrate dev --create-only` diff without the
// native engine download. Internal Prisma API: versions are pinned exactly and covered by test/prisma-compat.int.test.ts.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { DiagnoseMigrationHistoryOutput, MigrationList } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { quoteSchema, readMigrations } from '../src/migrate.js';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const schemaPath = join(packageDir, 'prisma', 'schema.prisma');
export const migrationsDir = join(packageDir, 'prisma', 'migrations');

// What the engine prints for a diff with no changes.
export const EMPTY_MIGRATION = '-- This is an empty migration.';

let loaded: Promise<void> | undefined;

// @types/node 20 does not declare the WebAssembly global; this is the slice used here.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

// Node 20 cannot `import` .wasm without a flag, so instantiate it by hand and hand it to the wasm-bindgen glue.
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const wasmPath = fileURLToPath(new URL('schema_engine_bg.wasm', import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg')));
    const imports = { './schema_engine_bg.js': bg };
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), imports);
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
  })();
  return loaded;
}

// adapter-pg 7.10 cannot map PostgreSQL's internal "char" type (oid 18), which the engine's introspection reads; it is text.
function charSafePool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  // Dropping the shadow database WITH (FORCE) ends its connections; an idle client's FATAL is expected, not a crash.
  pool.on('error', () => undefined);
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  Object.assign(pool, {
    query: async (...args: unknown[]) => {
      const result = await query(...args);
      for (const field of result.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
      return result;
    },
  });
  return pool;
}

// An adapter whose executeScript sends the whole script at once: the stock one splits on ';', breaking $$ bodies.
async function connectAdapter(pool: pg.Pool, onDispose: () => Promise<void>, schema?: string): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaPg(pool, schema === undefined ? undefined : { schema }).connect();
  return Object.assign(Object.create(adapter) as SqlDriverAdapter, {
    executeScript: async (script: string) => {
      await pool.query(script);
    },
    dispose: async () => {
      await adapter.dispose();
      await pool.end();
      await onDispose();
    },
  });
}

// Like Prisma's: a throwaway shadow database on the same server (needs CREATEDB), replaying the migrations.
function adapterFactory(databaseUrl: string, schema?: string): SqlMigrationAwareDriverAdapterFactory {
  const options = schema === undefined ? {} : { options: `-c search_path=${quoteSchema(schema)}` };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectAdapter(charSafePool({ connectionString: databaseUrl, max: 1, ...options }), async () => {}, schema),
    connectToShadowDb: async () => {
      const name = `prisma_migrate_shadow_db_${randomUUID().replaceAll('-', '')}`;
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      await admin.end();
      const url = new URL(databaseUrl);
      url.pathname = `/${name}`;
      return connectAdapter(charSafePool({ connectionString: url.toString(), max: 1 }), async () => {
        const dropper = new pg.Client({ connectionString: databaseUrl });
        await dropper.connect();
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await dropper.end();
      });
    },
  };
}

async function migrationList(folder: string): Promise<MigrationList> {
  const lockfile = await readFile(join(folder, 'migration_lock.toml'), 'utf8').catch(() => null);
  const migrations = existsSync(folder) ? await readMigrations(folder) : [];
  return {
    baseDir: folder,
    lockfile: { path: 'migration_lock.toml', content: lockfile ?? 'provider = "postgresql"\n' },
    shadowDbInitScript: '',
    migrationDirectories: migrations.map((m) => ({ path: m.name, migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } } })),
  };
}

// Runs one engine command; the engine logs JSON lines, errors among them are added to a failure's message.
async function withEngine<T>(databaseUrl: string, schemaFile: string, schema: string | undefined, run: (engine: bg.SchemaEngine) => Promise<T>): Promise<T> {
  await loadWasm();
  const content = await readFile(schemaFile, 'utf8');
  const errors: string[] = [];
  const log = (line: string) => {
    if (line.includes('"level":"ERROR"')) errors.push(line);
  };
  const engine = await bg.SchemaEngine.new({ datamodels: [[schemaFile, content]] }, log, bindMigrationAwareSqlAdapterFactory(adapterFactory(databaseUrl, schema)));
  try {
    return await run(engine);
  } catch (error) {
    throw new Error(`schema engine failed: ${error instanceof Error ? error.message : String(error)}${errors.length ? `\n${errors.join('\n')}` : ''}`, { cause: error });
  } finally {
    engine.free();
  }
}

const noFilters = { externalTables: [], externalEnums: [] };

export interface DiffOptions {
  /** Server used for the shadow database (the connecting role needs CREATEDB). */
  databaseUrl: string;
  schemaFile?: string;
  migrationsFolder?: string;
}

/** SQL that takes a database migrated with every existing migration to the current schema.prisma. */
export async function diffMigrationsToSchema(options: DiffOptions): Promise<string> {
  const schemaFile = options.schemaFile ?? schemaPath;
  const content = await readFile(schemaFile, 'utf8');
  const from = { tag: 'migrations' as const, ...(await migrationList(options.migrationsFolder ?? migrationsDir)) };
  return withEngine(options.databaseUrl, schemaFile, undefined, async (engine) => {
    const result = await engine.diff({ from, to: { tag: 'schemaDatamodel', files: [{ path: schemaFile, content }] }, script: true, exitCode: null, filters: noFilters });
    return (result.stdout ?? '').trim();
  });
}

/** Prisma's own view of a database's migration history (what `prisma migrate status` reports). */
export async function prismaMigrationStatus(options: { databaseUrl: string; schema?: string; migrationsFolder?: string }): Promise<DiagnoseMigrationHistoryOutput> {
  const migrationsList = await migrationList(options.migrationsFolder ?? migrationsDir);
  return withEngine(options.databaseUrl, schemaPath, options.schema, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: noFilters }),
  );
}
