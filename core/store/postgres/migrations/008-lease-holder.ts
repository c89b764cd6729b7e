import type { Migration } from '../../migrations/types';

/** SQLite's 008: which process holds a queue lease. */
export const pgLeaseHolderMigration: Migration = {
  version: 8,
  name: 'lease-holder',
  sql: `
    ALTER TABLE queue ADD COLUMN leased_pid INTEGER;
    ALTER TABLE queue ADD COLUMN leased_host TEXT;
  `,
};
