import type { Migration } from './types';

/**
 * The nodes of an installation (issue #20): each running server records itself here and beats
 * every few seconds (core/cluster/node-heartbeat.ts); `fluxgate nodes` reads it. `id` is
 * cluster.nodeId (default: host name and SFTP port); `address` where its SFTP server listens;
 * `files_in_progress` the file jobs it held leased at its last beat; `stopped_at` set when it
 * stopped cleanly (a node that died keeps a beat that grows old). Times are epoch milliseconds.
 * 015: 014 is another branch's.
 */
export const nodesMigration: Migration = {
  version: 15,
  name: 'nodes',
  sql: `
    CREATE TABLE nodes (
      id TEXT PRIMARY KEY,
      address TEXT NOT NULL,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      heartbeat_at INTEGER NOT NULL,
      stopped_at INTEGER,
      files_in_progress INTEGER NOT NULL DEFAULT 0
    );
  `,
};
