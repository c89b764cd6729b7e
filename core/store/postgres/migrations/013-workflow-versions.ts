import type { Migration } from '../../migrations/types';

/** SQLite's 013: the last good definition of each workflow file, and each file's workflow status. */
export const pgWorkflowVersionsMigration: Migration = {
  version: 13,
  name: 'workflow-versions',
  sql: `
    CREATE TABLE workflow_versions (
      source TEXT PRIMARY KEY,
      flux TEXT NOT NULL,
      content TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      saved_at BIGINT NOT NULL
    );
    CREATE TABLE workflow_status (
      source TEXT PRIMARY KEY,
      flux TEXT,
      state TEXT NOT NULL,
      problem TEXT,
      good_sha256 TEXT,
      updated_at BIGINT NOT NULL
    );
  `,
};
