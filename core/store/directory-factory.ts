import { openDatabase } from './database';
import { SqliteDirectoryRepository } from './directory-repository';
import type { DirectoryRepository } from './ports/directory';

/**
 * Where a process that is not the server's main thread (a plugin sandbox's host worker,
 * core/sandbox/host-worker.ts) finds the directory: plain data, so that it crosses to a worker
 * thread. Only SQLite so far (the database file); PostgreSQL (`store.url`) comes with its
 * repositories (docs/store.md).
 */
export interface DirectoryTarget { engine: 'sqlite'; database: string }

/** A directory of its own (its own connection), and how to close that connection. */
export interface OpenedDirectory { directory: DirectoryRepository; close(): Promise<void> }

/** Opens the target's directory on a connection of its own; `afterWrite` is called after each batch. */
export function openDirectory(target: DirectoryTarget, hooks: { afterWrite?: () => void } = {}): OpenedDirectory {
  const db = openDatabase(target.database);
  return { directory: new SqliteDirectoryRepository(db, hooks), close: async () => { db.close(); } };
}

/**
 * The directory target of a data directory's store: its SQLite file. (A configured `store.url`
 * is refused before a server or `plugin test` gets here, core/store/engine-support.ts, until the
 * PostgreSQL repositories exist.)
 */
export function directoryTarget(paths: { database: string }): DirectoryTarget {
  return { engine: 'sqlite', database: paths.database };
}
