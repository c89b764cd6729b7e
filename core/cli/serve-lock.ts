import type { DataPaths } from '../config/paths';
import { nodeIdBeforeListening } from '../config/node-id';
import type { FluxgateConfig } from '../config/schema';
import type { Logger } from '../logging/logger';
import { DataDirLock } from '../store/data-dir-lock';
import { PostgresNodeLock } from '../store/postgres/node-lock';

/** What keeps a second `serve` out while this one runs. */
export interface ServeLock {
  release(): Promise<void>;
}

/**
 * Taken before anything opens the store. On SQLite, one `serve` per data directory
 * (FG_DATA_DIR_LOCKED: data-dir-lock.ts). On PostgreSQL (store.url) the nodes share the data
 * directory (docs/cluster.md), so it is one `serve` per node id instead (FG_NODE_ID_TAKEN:
 * postgres/node-lock.ts). A default node id on port 0 names the port this process binds, which
 * no other holds: nothing to lock then.
 */
export async function acquireServeLock(config: FluxgateConfig, paths: DataPaths, logger: Logger): Promise<ServeLock> {
  const { url } = config.store;
  if (url === undefined) {
    const lock = DataDirLock.acquire(paths);
    return { release: () => { lock.release(); return Promise.resolve(); } };
  }
  const id = nodeIdBeforeListening(config);
  if (id === undefined) {
    logger.info({ component: 'serve' }, 'no node id lock: the node id is the host name and the port it will listen on (cluster.nodeId unset, sftp.port 0)');
    return { release: () => Promise.resolve() };
  }
  return PostgresNodeLock.acquire(url, id, logger);
}
