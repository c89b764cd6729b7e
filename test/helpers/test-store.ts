import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { DataPaths } from '../../core/config/paths';
import { silentLogger } from '../../core/logging/logger';
import { openDatabase, type Database } from '../../core/store/database';
import type { DirectoryRepository } from '../../core/store/ports/directory';
import type { Store } from '../../core/store/ports/store';
import { connectPostgres } from '../../core/store/postgres/connect';
import { migratePostgres } from '../../core/store/postgres/migrate';
import { PostgresStore } from '../../core/store/postgres/postgres-store';
import { SqliteStore } from '../../core/store/sqlite-store';
import { POSTGRES_URL_ENV } from './postgres';

/**
 * Which engine the server-level suites run on. `FLUXGATE_TEST_STORE=postgres` (test/run.mjs's
 * second pass over test/postgres-suites.mjs) gives every test server and every CLI run on a data
 * directory a PostgreSQL database of its own (`store.url`), in the cluster test/run.mjs starts;
 * unset, the embedded SQLite file under the data directory, as an install has it.
 */
export type StoreEngine = 'sqlite' | 'postgres';
export const TEST_STORE: StoreEngine = process.env.FLUXGATE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

function postgresServer(): string {
  const url = process.env[POSTGRES_URL_ENV];
  if (url) return url;
  throw new Error(`FLUXGATE_TEST_STORE=postgres needs a PostgreSQL server: run the tests through npm test (\`FLUXGATE_TEST_STORE=postgres npm test -- <file>\`), which starts one, or set ${POSTGRES_URL_ENV}`);
}

/** The database of a data directory: named after its path, so a server restarted on the same directory finds its data. */
function databaseName(dataDir: string): string {
  return `fg_t_${createHash('sha1').update(resolve(dataDir)).digest('hex').slice(0, 20)}`;
}

/** The `store.url` a server or CLI run on this data directory is given: undefined on SQLite (the file under it). */
export function storeUrlFor(dataDir: string): string | undefined {
  if (TEST_STORE === 'sqlite') return undefined;
  const url = new URL(postgresServer());
  url.pathname = `/${databaseName(dataDir)}`;
  return url.toString();
}

async function onServer<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: postgresServer() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const created = new Map<string, Promise<void>>();

/**
 * Creates the data directory's database if it does not exist yet, with the schema (what an
 * operator's `fluxgate store migrate` does before the first CLI command: the CLI refuses a
 * database without it, FG_STORE_NOT_MIGRATED, where SQLite makes its file). Nothing on SQLite.
 */
export function ensureStoreFor(dataDir: string): Promise<void> {
  if (TEST_STORE === 'sqlite') return Promise.resolve();
  const name = databaseName(dataDir);
  let made = created.get(name);
  if (!made) {
    made = onServer(async (c) => {
      // 42P04: it exists (another TestServer on the same directory made it).
      await c.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => { if (err.code !== '42P04') throw err; });
    });
    made = made.then(async () => {
      const client = await connectPostgres(storeUrlFor(dataDir)!, { application_name: 'fluxgate test migrate' });
      try {
        await migratePostgres(client);
      } finally {
        await client.end();
      }
    });
    created.set(name, made);
  }
  return made;
}

/** Drops the data directory's database (with the directory: a test that keeps it keeps its database too). */
export async function dropStoreFor(dataDir: string): Promise<void> {
  if (TEST_STORE === 'sqlite') return;
  const name = databaseName(dataDir);
  created.delete(name);
  await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Environment for a `fluxgate` run given `--data-dir` and no config: its store (FLUXGATE_STORE_URL), made first. */
export async function storeEnvFor(dataDir: string): Promise<NodeJS.ProcessEnv> {
  await ensureStoreFor(dataDir);
  const url = storeUrlFor(dataDir);
  return url ? { FLUXGATE_STORE_URL: url } : {};
}

/**
 * A test's own connection to a data directory's store, whichever engine: the repositories
 * (`store`, `directory()`) to set rows up or read them as the server does, and raw SQL for what
 * they do not show.
 */
export interface TestStore {
  readonly engine: StoreEngine;
  readonly store: Store;
  directory(): DirectoryRepository;
  /**
   * Raw SQL, the same text on both engines: `?` placeholders (numbered for PostgreSQL here);
   * rows as SQLite gives them: booleans as 1 / 0 (PostgreSQL's BIGINT already reads as numbers).
   * Keep to SQL both engines know (no `->>`, no `IFNULL`).
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The first column of the first row (a count, one field), or undefined. */
  value<T = unknown>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** A statement that changes rows (`?` placeholders): how many it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

export async function openTestStore(dataDir: string): Promise<TestStore> {
  return TEST_STORE === 'sqlite' ? openSqlite(dataDir) : openPostgres(dataDir);
}

function firstValue<T>(rows: Array<Record<string, unknown>>): T | undefined {
  return rows.length ? Object.values(rows[0])[0] as T : undefined;
}

function openSqlite(dataDir: string): TestStore {
  const file = new DataPaths(dataDir).database;
  const store = SqliteStore.open(file);
  const raw: Database = openDatabase(file);
  const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const stmt = raw.prepare(sql);
    return Promise.resolve((stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[]);
  };
  return {
    engine: 'sqlite', store,
    directory: () => store.directory(),
    query,
    value: async <T>(sql: string, params?: unknown[]) => firstValue<T>(await query<Record<string, unknown>>(sql, params)),
    run: (sql: string, params: unknown[] = []) => Promise.resolve(raw.prepare(sql).run(...params).changes),
    close: () => { store.close(); raw.close(); return Promise.resolve(); },
  };
}

async function openPostgres(dataDir: string): Promise<TestStore> {
  await ensureStoreFor(dataDir);
  const store = await PostgresStore.open(storeUrlFor(dataDir)!, silentLogger(), { size: 2 });
  const numbered = (sql: string): string => { let n = 0; return sql.replace(/\?/g, () => `$${++n}`); };
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const rows = await store.pool.rows(numbered(sql), params);
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]))) as T[];
  };
  return {
    engine: 'postgres', store,
    directory: () => store.directory(),
    query,
    value: async <T>(sql: string, params?: unknown[]) => firstValue<T>(await query<Record<string, unknown>>(sql, params)),
    run: (sql: string, params: unknown[] = []) => store.pool.run(numbered(sql), params),
    close: () => store.close(),
  };
}
