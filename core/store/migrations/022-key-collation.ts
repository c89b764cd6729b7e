import type { Migration } from './types';

/**
 * PostgreSQL's 022 gives the directory's key columns the "C" collation, so that they compare
 * byte by byte as SQLite's BINARY columns always have. Nothing changes here: the migration
 * exists so that a schema version means the same tables on both engines.
 */
export const keyCollationMigration: Migration = {
  version: 22,
  name: 'key-collation',
  sql: `
    -- SQLite's TEXT columns compare with BINARY already.
  `,
};
