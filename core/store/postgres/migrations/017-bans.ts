import type { Migration } from '../../migrations/types';

/** SQLite's 017: brute-force bans shared by the nodes. */
export const pgBansMigration: Migration = {
  version: 17,
  name: 'bans',
  sql: `
    CREATE TABLE bans (
      address TEXT PRIMARY KEY,
      banned_at BIGINT NOT NULL,
      banned_until BIGINT NOT NULL,
      username TEXT NOT NULL DEFAULT '',
      node_id TEXT
    );
    CREATE INDEX bans_until ON bans (banned_until);
  `,
};
