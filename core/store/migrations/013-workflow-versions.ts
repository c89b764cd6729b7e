import type { Migration } from './types';

/**
 * Workflows the server runs with (issue #23): the last good definition of each workflow file,
 * used at start-up when the file no longer validates (its flux keeps working on it), and what
 * each file's workflow is at the moment, which `fluxgate workflows status` shows.
 */
export const workflowVersionsMigration: Migration = {
  version: 13,
  name: 'workflow-versions',
  sql: `
    CREATE TABLE workflow_versions (
      source TEXT PRIMARY KEY,
      flux TEXT NOT NULL,
      content TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      saved_at INTEGER NOT NULL
    );
    CREATE TABLE workflow_status (
      source TEXT PRIMARY KEY,
      flux TEXT,
      state TEXT NOT NULL,
      problem TEXT,
      good_sha256 TEXT,
      updated_at INTEGER NOT NULL
    );
  `,
};
