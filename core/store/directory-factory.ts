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
 * Where the configured store keeps the directory: the PostgreSQL store's URL when `store.url`
 * is set, else the data directory's SQLite file. What a sandboxed plugin's host worker is given
 * (core/composition/state.ts), so that on a PostgreSQL node its `ctx.directory` writes there.
 */
export function directoryTarget(storeUrl: string | undefined, paths: { database: string }): DirectoryTarget {
  return storeUrl !== undefined ? { engine: 'postgres', url: storeUrl } : { engine: 'sqlite', database: paths.database };
}
