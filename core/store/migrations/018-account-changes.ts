import type { Migration } from './types';

/**
 * The count of committed changes to accounts and their keys, which PostgreSQL's
 * `AccountRepository.changeStamp()` reads (its twin adds the triggers that bump it): open SFTP
 * sessions on every node re-check their login when it moved. SQLite needs no such count (its
 * stamp is `data_version` and `total_changes()`), so here the table only keeps both schemas
 * alike; it stays empty and `store copy` skips it (each engine keeps its own).
 */
export const accountChangesMigration: Migration = {
  version: 18,
  name: 'account-changes',
  sql: `
    CREATE TABLE account_changes (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      changes INTEGER NOT NULL
    );
  `,
};
