import { openDatabase } from './database';
import { SqliteDirectoryRepository } from './directory-repository';
import type { DirectoryRepository } from './ports/directory';

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
 * which `close` ends); `afterWrite` is called after each batch. `checkpointed`: SQLite's WAL is
 * checkpointed by the server's WalCheckpointer, which counts this connection's writes
 * (afterWrite): this connection then never checkpoints in its own commits, as the server's own
 * does not (by default a commit past 1000 WAL pages copies them into the database and syncs,
 * on the writer's thread: a sandbox's, for each batch of a big file).
 */
export function openDirectory(target: DirectoryTarget, hooks: { afterWrite?: () => void; checkpointed?: boolean } = {}): OpenedDirectory {
  if (target.engine === 'postgres') {
    // Loaded for a PostgreSQL target only: `pg` and its repositories took 50-90 ms to load at
    // rest (several hundred under load), in a sandbox's host worker before the sandbox can start.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { PgPool } = require('./postgres/pool') as typeof import('./postgres/pool');
    const { PostgresDirectoryRepository } = require('./postgres/directory-repository') as typeof import('./postgres/directory-repository');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const pool = new PgPool(target.url, { size: WORKER_POOL_SIZE, applicationName: 'fluxgate directory' });
    return { directory: new PostgresDirectoryRepository(pool, hooks), close: () => pool.end() };
  }
  const db = openDatabase(target.database);
  if (hooks.checkpointed) db.pragma('wal_autocheckpoint = 0');
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
