import type { Migration } from './types';

/**
 * One journal entry per upload, not per location while live (issue #20): `upload_identity` is
 * the file's identity when intake took it in (its inode, its mtime in nanoseconds and its size,
 * from the `stat` taken before the digest). A rename keeps it, a new upload of the same name
 * is a new file (a new inode), so the unique index lets one row in per account, path and
 * identity, whatever that row's state: a node whose scan digested a file another node has
 * since recorded, processed and archived cannot record it again. Null for rows journaled
 * before this migration and for rows made without intake (tests, imports): never in conflict.
 */
export const uploadIdentityMigration: Migration = {
  version: 20,
  name: 'upload-identity',
  sql: `
    ALTER TABLE files ADD COLUMN upload_identity TEXT;
    CREATE UNIQUE INDEX files_upload_identity ON files (account_id, original_path, upload_identity) WHERE upload_identity IS NOT NULL;
  `,
};
