import type { Migration } from './types';

/**
 * Indexes for a journal of millions of rows (issue #19), so that what the server and the CLI do
 * costs the same with a long history as with an empty one:
 * - pages of the journal, newest first, with keyset pagination (`fluxgate files`, the HTTP API):
 *   `(account_id, state, received_at, id)` (replaces `(account_id, state)`), `(account_id,
 *   received_at, id)`, `(state, received_at, id)` (also start-up recovery and retention's
 *   rejected/dead files), `(flux, received_at, id)` and `(received_at, id)` (replaces
 *   `(received_at)`): each filter's rows come in order, so a page reads its rows and stops,
 *   never sorting all matches;
 * - retention's processed files, page by page: `(state, processed_at, id)` (replaces
 *   `(processed_at)`) reads only rows still `processed`, not the deleted ones that make up most
 *   of a long history;
 * - an account's outputs and queue rows (account removal counts, exports and deletes them).
 */
export const journalScaleMigration: Migration = {
  version: 11,
  name: 'journal-scale',
  sql: `
    DROP INDEX IF EXISTS files_account_state;
    DROP INDEX IF EXISTS files_received_at;
    DROP INDEX IF EXISTS files_processed_at;
    CREATE INDEX files_account_state_received ON files (account_id, state, received_at, id);
    CREATE INDEX files_account_received ON files (account_id, received_at, id);
    CREATE INDEX files_state_received ON files (state, received_at, id);
    CREATE INDEX files_received ON files (received_at, id);
    CREATE INDEX files_state_processed ON files (state, processed_at, id);
    CREATE INDEX files_flux_received ON files (flux, received_at, id);
    CREATE INDEX outputs_account ON outputs (account_id);
    CREATE INDEX queue_account ON queue (account_id) WHERE account_id IS NOT NULL;
  `,
};
