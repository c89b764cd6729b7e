import type { LoadedConfig } from '../config/load';
import { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import type { DirectoryRepository } from '../store/ports/directory';
import type { Store } from '../store/ports/store';
import { SqliteStore } from '../store/sqlite-store';
import type { WalCheckpointer } from '../store/wal-checkpointer';

/** Configuration and state: what every other part is built on. */
export interface State {
  loaded: LoadedConfig;
  config: FluxgateConfig;
  logger: Logger;
  paths: DataPaths;
  /** The SQLite implementation: for the classes not behind an interface yet, and to close it (docs/store.md). */
  sqlite: SqliteStore;
  /** The store's repositories, behind their interfaces (core/store/ports). */
  store: Store;
  /** The SFTP server announces completed uploads here; intake listens. */
  uploads: UploadEvents;
  /** A Service: started before and stopped after everything that writes. */
  walCheckpointer: WalCheckpointer;
  /** The HR directory (plugins' data, ctx.directory). */
  directory: DirectoryRepository;
}

export function composeState(loaded: LoadedConfig, logger: Logger): State {
  const paths = new DataPaths(loaded.dataDir);
  const sqlite = SqliteStore.open(paths.database);
  const walCheckpointer = sqlite.walCheckpointer(logger);
  return {
    loaded, config: loaded.config, logger, paths, sqlite,
    store: sqlite,
    uploads: new UploadEvents(),
    walCheckpointer,
    // Directory writes are what fills the WAL: each is noted so the checkpointer keeps up.
    directory: sqlite.directory({ afterWrite: () => walCheckpointer.noteWrite() }),
  };
}
