import type { Migration } from './types';

/**
 * The engine's additions to the journal: what the engine learned about each file (profile,
 * workflow, naming parts), when its receipt/report were actually written (so a retry after a
 * crash rewrites the same output instead of making a second one), and an `outputs` table of
 * every report/receipt written into out/ (retention deletes those by created_at).
 */
export const engineMigration: Migration = {
  version: 4,
  name: 'engine',
  sql: `
    ALTER TABLE files ADD COLUMN profile TEXT;
    ALTER TABLE files ADD COLUMN workflow TEXT;
    ALTER TABLE files ADD COLUMN naming TEXT;
    ALTER TABLE files ADD COLUMN receipt_written_at INTEGER;
    ALTER TABLE files ADD COLUMN report_written_at INTEGER;
    CREATE INDEX files_received_at ON files (received_at);
    CREATE INDEX files_processed_at ON files (processed_at);

    CREATE TABLE outputs (
      id INTEGER PRIMARY KEY,
      file_id TEXT REFERENCES files(id) ON DELETE SET NULL,
      account_id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report')),
      path TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX outputs_created ON outputs (created_at);
    CREATE INDEX outputs_file ON outputs (file_id);
  `,
};
