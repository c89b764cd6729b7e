import type { Migration } from './types';

/**
 * Who uploaded a file (issue #20: the journal sees the real client address): the SFTP client's
 * address, the real one behind a trusted PROXY protocol proxy, and the fingerprint of the key it
 * logged in with (null for a password). Both null for a file found in the tree (dropped by other
 * means) and for files journaled before this migration.
 */
export const fileClientMigration: Migration = {
  version: 16,
  name: 'file-client',
  sql: `
    ALTER TABLE files ADD COLUMN client_address TEXT;
    ALTER TABLE files ADD COLUMN client_fingerprint TEXT;
  `,
};
