import type { Migration } from '../../migrations/types';

/** SQLite's 011: the journal's keyset-pagination indexes (issue #19). */
export const pgJournalScaleMigration: Migration = {
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
