import type { LoadedConfig } from '../config/load';
import { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import { directoryTarget, type DirectoryTarget } from '../store/directory-factory';
import { DirectoryWriter } from '../store/directory-writer';
import type { DirectoryRepository } from '../store/ports/directory';
import type { Store } from '../store/ports/store';
import { PostgresStore } from '../store/postgres/postgres-store';
import { SqliteStore } from '../store/sqlite-store';
import type { Service } from '../tokens';

/** Configuration and state: what every other part is built on. */
export interface State {
  loaded: LoadedConfig;
  config: FluxgateConfig;
  logger: Logger;
  paths: DataPaths;
  /** The store's repositories, behind their interfaces (core/store/ports): SQLite, or PostgreSQL with store.url. */
  store: Store;
  /** The SFTP server announces completed uploads here; intake listens. */
  uploads: UploadEvents;
  /** The HR directory (plugins' data, ctx.directory), on the same store. */
  directory: DirectoryRepository;
  /** Where a sandboxed plugin's host worker opens the directory: plain data, it crosses to a worker thread. */
  directoryTarget: DirectoryTarget;
  /** The store's own services, started before and stopped after everything that writes: SQLite's WAL checkpointer; none on PostgreSQL. */
  storeServices: readonly Service[];
  /** SQLite: the WAL checkpointer's write count, which sandboxes' directory writes move as the server's own do; none on PostgreSQL. */
  sandboxWrites?: SharedArrayBuffer;
  /** Closes the store (PostgreSQL: ends the pool), once every service has stopped. */
  close(): Promise<void>;
}

/**
 * Opens the configured store: with `store.url`, PostgreSQL (migrated first, one node at a time
 * under migrate's advisory lock; a pool of `store.poolSize` connections); else the SQLite file
 * under dataDir, as always.
 */
export async function composeState(loaded: LoadedConfig, logger: Logger): Promise<State> {
  const paths = new DataPaths(loaded.dataDir);
  const { url, poolSize } = loaded.config.store;
  const common = { loaded, config: loaded.config, logger, paths, uploads: new UploadEvents(), directoryTarget: directoryTarget(url, paths) };
  if (url !== undefined) {
    const postgres = await PostgresStore.open(url, logger, { size: poolSize });
    return { ...common, store: postgres, directory: postgres.directory(), storeServices: [], close: () => postgres.close() };
  }
  const sqlite = SqliteStore.open(paths.database);
  const walCheckpointer = sqlite.walCheckpointer(logger);
  // Big batches of new employees are inserted on a thread of their own (directory-writer.ts).
  const writer = new DirectoryWriter({ database: paths.database, writes: walCheckpointer.sharedWriteCount });
  return {
    ...common,
    store: sqlite,
    // Directory writes are what fills the WAL: each is noted so the checkpointer keeps up.
    directory: sqlite.directory({ afterWrite: () => walCheckpointer.noteWrite(), writer }),
    // Stopped in reverse order: the writer closes its connection before the checkpointer's last checkpoint.
    storeServices: [walCheckpointer, writer],
    sandboxWrites: walCheckpointer.sharedWriteCount,
    // The writer is a service of the server; a command that composed only this state stops it here.
    close: async () => { await writer.stop(); sqlite.close(); },
  };
}
