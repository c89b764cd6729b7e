import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { FluxgateConfig } from '../config/schema';
import type { DataPaths } from '../config/paths';
import { redactStoreUrl } from '../config/store-url';
import { openDatabase } from './database';
import { MIGRATIONS } from './migrations';
import { connectPostgres } from './postgres/connect';
import { migratePostgres, type MigrationResult } from './postgres/migrate';

export interface StoreMigration extends MigrationResult {
  engine: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL without its password. */
  target: string;
}

/** `fluxgate store migrate`: applies the schema to the configured store and says what it applied. */
export async function migrateStore(config: FluxgateConfig, paths: DataPaths): Promise<StoreMigration> {
  const url = config.store.url;
  if (url !== undefined) {
    const client = await connectPostgres(url, { application_name: 'fluxgate store migrate' });
    try {
      return { engine: 'postgres', target: redactStoreUrl(url), ...(await migratePostgres(client)) };
    } finally {
      await client.end();
    }
  }
  const before = sqliteVersions(paths.database);
  // openDatabase migrates (under SQLite's write lock, one process at a time), as every start does.
  openDatabase(paths.database).close();
  const applied = MIGRATIONS.filter((m) => !before.has(m.version)).map((m) => ({ version: m.version, name: m.name }));
  return { engine: 'sqlite', target: paths.database, applied, version: Math.max(0, ...MIGRATIONS.map((m) => m.version), ...before) };
}

/** The migrations a SQLite file has had (none when it does not exist yet). */
function sqliteVersions(file: string): Set<number> {
  if (!existsSync(file)) return new Set();
  const db = new BetterSqlite3(file, { fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!table) return new Set();
    return new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  } finally {
    db.close();
  }
}
