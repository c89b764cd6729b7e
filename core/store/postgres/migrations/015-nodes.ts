import type { Migration } from '../../migrations/types';

/** SQLite's 015: the nodes of the installation and their heartbeats. */
export const pgNodesMigration: Migration = {
  version: 15,
  name: 'nodes',
  sql: `
    CREATE TABLE nodes (
      id TEXT PRIMARY KEY,
      address TEXT NOT NULL,
      host TEXT NOT NULL,
      pid INTEGER NOT NULL,
      started_at BIGINT NOT NULL,
      heartbeat_at BIGINT NOT NULL,
      stopped_at BIGINT,
      files_in_progress INTEGER NOT NULL DEFAULT 0
    );
  `,
};
