import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from 'pg';
import { silentLogger } from '../../core/logging/logger';
import { openDatabase, type Database } from '../../core/store/database';
import type { Store } from '../../core/store/ports/store';
import { PostgresStore } from '../../core/store/postgres/postgres-store';
import { SqliteStore } from '../../core/store/sqlite-store';
import { freshDatabase } from './postgres';
import { skipUnless } from './tools';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres'];

/** A fresh, empty store of one engine, for one test. */
export interface EngineUnderTest {
  engine: EngineName;
  store: Store;
  /**
   * Another store on the same data, as a second process (SQLite: another connection to the
   * file) or a second node (PostgreSQL: another pool) would have it. Closed with the test.
   */
  another(): Promise<Store>;
  /**
   * Raw SQL on the same data, for what the interface under test does not make (journal rows,
   * queue jobs…) or to look under it. `?` placeholders on both engines; resolves to the rows.
   */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The contract tests' harness: `body` runs once on a fresh SQLite store and once on a fresh
 * PostgreSQL store (a database of its own: test/helpers/postgres.ts), as two tests named
 * `title [sqlite]` and `title [postgres]`. The PostgreSQL one is skipped without a server, and
 * fails under CI=true (skipUnless). `engines` narrows it to one engine, for behaviour only one
 * has (a cluster's).
 */
export function bothEngines(title: string, body: (e: EngineUnderTest) => Promise<void>, engines: readonly EngineName[] = ENGINES): void {
  for (const engine of engines) {
    test(`${title} [${engine}]`, { skip: engine === 'postgres' ? skipUnless('postgres') : false }, async () => {
      const e = engine === 'sqlite' ? freshSqlite() : await freshPostgres();
      try {
        await body(e);
      } finally {
        await e.close();
      }
    });
  }
}

function freshSqlite(): EngineUnderTest & { close(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-contract-'));
  const file = join(dir, 'fluxgate.db');
  const store = SqliteStore.open(file);
  const raw: Database = openDatabase(file);
  const others: SqliteStore[] = [];
  return {
    engine: 'sqlite', store,
    another: () => { const s = SqliteStore.open(file); others.push(s); return Promise.resolve(s); },
    sql: <T>(text: string, params: unknown[] = []) => {
      const stmt = raw.prepare(text);
      return Promise.resolve((stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[]);
    },
    close: () => {
      for (const s of [store, ...others]) s.close();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function freshPostgres(): Promise<EngineUnderTest & { close(): Promise<void> }> {
  const db = await freshDatabase();
  const store = await PostgresStore.open(db.url, silentLogger());
  const others: PostgresStore[] = [];
  const raw = new Client({ connectionString: db.url });
  await raw.connect();
  return {
    engine: 'postgres', store,
    another: async () => { const s = await PostgresStore.open(db.url, silentLogger()); others.push(s); return s; },
    sql: async <T>(text: string, params: unknown[] = []) => {
      let n = 0;
      return (await raw.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
    },
    close: async () => {
      for (const s of [store, ...others]) await s.close();
      await raw.end();
      await db.drop();
    },
  };
}
