import type { Migration } from '../../migrations/types';

/** SQLite's 009: indexes for the per-file lookups (live file at a path, receipt names, outputs by path). */
export const pgLookupIndexesMigration: Migration = {
  version: 9,
  name: 'lookup-indexes',
  sql: `
    CREATE INDEX files_location ON files (location);
    CREATE INDEX files_receipt_path ON files (receipt_path) WHERE receipt_path IS NOT NULL;
    CREATE INDEX outputs_path ON outputs (path);
  `,
};
