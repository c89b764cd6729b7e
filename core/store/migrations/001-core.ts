import type { Migration } from './types';

/** Accounts, keys, the file journal, tombstones, the queue and cron state. Times are epoch milliseconds. */
export const coreMigration: Migration = {
  version: 1,
  name: 'core',
  sql: `
    CREATE TABLE accounts (
      id TEXT PRIMARY KEY,
      profile TEXT NOT NULL CHECK (profile IN ('exchange', 'dropbox')),
      partner TEXT,
      enabled INTEGER NOT NULL DEFAULT 1,
      disabled_reason TEXT,
      disabled_at INTEGER,
      allow_ips TEXT NOT NULL DEFAULT '[]',
      password_hash TEXT,
      options TEXT NOT NULL DEFAULT '{}',
      created_at INTEGER NOT NULL,
      last_login_at INTEGER,
      purged_at INTEGER
    );

    CREATE TABLE account_keys (
      id INTEGER PRIMARY KEY,
      account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      type TEXT NOT NULL,
      bits INTEGER NOT NULL,
      fingerprint TEXT NOT NULL,
      public_key TEXT NOT NULL,
      comment TEXT NOT NULL DEFAULT '',
      added_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      expired_at INTEGER,
      warned_at INTEGER,
      UNIQUE (account_id, fingerprint)
    );

    CREATE TABLE files (
      id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL,
      flux TEXT,
      original_path TEXT NOT NULL,
      name TEXT NOT NULL,
      size INTEGER NOT NULL,
      sha1 TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      received_at INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('received', 'processing', 'processed', 'rejected', 'failed', 'dead', 'deleted')),
      attempts INTEGER NOT NULL DEFAULT 0,
      outcome TEXT,
      location TEXT NOT NULL,
      report_path TEXT,
      receipt_path TEXT,
      processed_at INTEGER,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX files_account_state ON files (account_id, state);
    CREATE UNIQUE INDEX files_location_live ON files (location) WHERE state IN ('received', 'processing');

    CREATE TABLE file_events (
      id INTEGER PRIMARY KEY,
      file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
      at INTEGER NOT NULL,
      type TEXT NOT NULL,
      detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX file_events_file ON file_events (file_id, id);

    CREATE TABLE tombstones (
      id INTEGER PRIMARY KEY,
      file_id TEXT,
      account_id TEXT NOT NULL,
      path TEXT NOT NULL,
      name TEXT NOT NULL,
      size INTEGER,
      sha256 TEXT,
      rule TEXT NOT NULL,
      deleted_at INTEGER NOT NULL,
      UNIQUE (path, deleted_at)
    );
    CREATE INDEX tombstones_account ON tombstones (account_id);

    CREATE TABLE queue (
      id INTEGER PRIMARY KEY,
      topic TEXT NOT NULL,
      dedup_key TEXT,
      account_id TEXT,
      payload TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'done', 'dead')),
      run_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL,
      lease_until INTEGER,
      last_error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX queue_dedup_live ON queue (dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('ready', 'leased');
    CREATE INDEX queue_ready ON queue (state, run_at);

    CREATE TABLE cron_runs (
      id INTEGER PRIMARY KEY,
      job TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      ended_at INTEGER,
      outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted')),
      dry_run INTEGER NOT NULL DEFAULT 0,
      as_of INTEGER NOT NULL,
      counts TEXT NOT NULL DEFAULT '{}',
      error TEXT
    );
    CREATE INDEX cron_runs_job ON cron_runs (job, id);
  `,
};
