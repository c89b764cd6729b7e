import type { Migration } from '../../migrations/types';

/** SQLite's 003: tombstone intents, cron locks, retention's first-seen registry, inactivity marks. */
export const pgJobsMigration: Migration = {
  version: 3,
  name: 'jobs',
  sql: `
    ALTER TABLE tombstones ADD COLUMN state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('pending', 'done'));
    ALTER TABLE tombstones ADD COLUMN inode TEXT;
    ALTER TABLE tombstones ADD COLUMN as_of BIGINT;
    ALTER TABLE tombstones ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';
    CREATE INDEX tombstones_pending ON tombstones (state) WHERE state = 'pending';
    CREATE INDEX tombstones_file ON tombstones (file_id) WHERE file_id IS NOT NULL;

    CREATE TABLE cron_locks (
      job TEXT PRIMARY KEY,
      run_id BIGINT NOT NULL,
      pid INTEGER NOT NULL,
      host TEXT NOT NULL,
      acquired_at BIGINT NOT NULL
    );

    CREATE TABLE retention_seen (
      path TEXT PRIMARY KEY,
      account_id TEXT NOT NULL,
      inode TEXT NOT NULL,
      first_seen_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL
    );
    CREATE INDEX retention_seen_account ON retention_seen (account_id);

    CREATE TABLE inactivity_marks (
      account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
      basis_at BIGINT NOT NULL,
      disabled_at BIGINT NOT NULL
    );
  `,
};
