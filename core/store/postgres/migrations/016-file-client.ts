import type { Migration } from '../../migrations/types';

/** SQLite's 016: the SFTP client (address, key fingerprint) of an uploaded file. */
export const pgFileClientMigration: Migration = {
  version: 16,
  name: 'file-client',
  sql: `
    ALTER TABLE files ADD COLUMN client_address TEXT;
    ALTER TABLE files ADD COLUMN client_fingerprint TEXT;
  `,
};
