import type { Migration } from './types';

/**
 * Indexes for lookups made once per file (or more), which scanned the whole table: with a
 * journal of months, every intake and every receipt read every row ever received.
 * - `files (location)`: is a file live at this path (intake, twice per file, and every watcher
 *   event and 30 s scan); the partial unique index does not serve `state IN (… 'failed')`.
 * - `files (receipt_path)`: is a receipt name taken (the receipt step).
 * - `outputs (path)`: who wrote the output at this path (reports never replace another file's,
 *   retention's latest write of a path).
 */
export const lookupIndexesMigration: Migration = {
  version: 9,
  name: 'lookup-indexes',
  sql: `
    CREATE INDEX files_location ON files (location);
    CREATE INDEX files_receipt_path ON files (receipt_path) WHERE receipt_path IS NOT NULL;
    CREATE INDEX outputs_path ON outputs (path);
  `,
};
