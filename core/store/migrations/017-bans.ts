import type { Migration } from './types';

/**
 * Brute-force bans in the store (issue #20): a ban made on one node holds on every node, and
 * across restarts. One row per banned address (canonical form); `banned_until` and `banned_at`
 * in epoch milliseconds; `username` the last user name tried; `node_id` the node that banned it.
 * The failures that lead to a ban stay in each node's memory (docs/sftp.md).
 */
export const bansMigration: Migration = {
  version: 17,
  name: 'bans',
  sql: `
    CREATE TABLE bans (
      address TEXT PRIMARY KEY,
      banned_at INTEGER NOT NULL,
      banned_until INTEGER NOT NULL,
      username TEXT NOT NULL DEFAULT '',
      node_id TEXT
    );
    CREATE INDEX bans_until ON bans (banned_until);
  `,
};
