import { openDatabase } from './database';
import { SqliteDirectoryRepository } from './directory-repository';
import type { DirectoryRepository } from './ports/directory';
import { PostgresDirectoryRepository } from './postgres/directory-repository';
import { PgPool } from './postgres/pool';

/**
 * Where a process that is not the server's main thread (a plugin sandbox's host worker,
 * core/sandbox/host-worker.ts) finds the directory: plain data, so that it crosses to a worker
 * thread. SQLite: the database file; PostgreSQL: the store's URL (docs/store.md).
 */
export type DirectoryTarget = { engine: 'sqlite'; database: string } | { engine: 'postgres'; url: string };

/** A directory of its own (its own connection), and how to close that connection. */
export interface OpenedDirectory { directory: DirectoryRepository; close(): Promise<void> }

/** Connections of a sandbox worker's own pool: a handler awaits its directory calls one at a time. */
const WORKER_POOL_SIZE = 2;

/**
 * Opens the target's directory on a connection of its own (PostgreSQL: a small pool of its own,
 * which `close` ends); `afterWrite` is called after each batch.
 */
export function openDirectory(target: DirectoryTarget, hooks: { afterWrite?: () => void } = {}): OpenedDirectory {
  if (target.engine === 'postgres') {
    const pool = new PgPool(target.url, { size: WORKER_POOL_SIZE, applicationName: 'fluxgate directory' });
    return { directory: new PostgresDirectoryRepository(pool, hooks), close: () => pool.end() };
  }
  const db = openDatabase(target.database);
  return { directory: new SqliteDirectoryRepository(db, hooks), close: async () => { db.close(); } };
}

/**
 * The directory target of a store: a data directory's SQLite file, or a PostgreSQL store's URL
 * (anything with a `pool.url`: PostgresStore). `serve` and `plugin test` still refuse a
 * configured `store.url` (core/store/engine-support.ts) until serving from PostgreSQL is wired.
 */
export function directoryTarget(store: { database: string } | { pool: { url: string } }): DirectoryTarget {
  return 'pool' in store ? { engine: 'postgres', url: store.pool.url } : { engine: 'sqlite', database: store.database };
}
