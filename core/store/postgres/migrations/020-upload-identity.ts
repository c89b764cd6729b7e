import type { Migration } from '../../migrations/types';

/** SQLite's 020: the file's identity at intake, one journal entry per account, path and identity. */
export const pgUploadIdentityMigration: Migration = {
  version: 20,
  name: 'upload-identity',
  sql: `
    ALTER TABLE files ADD COLUMN upload_identity TEXT;
    CREATE UNIQUE INDEX files_upload_identity ON files (account_id, original_path, upload_identity) WHERE upload_identity IS NOT NULL;
  `,
};
