import type { Migration } from '../../migrations/types';

/**
 * SQLite's 005 kept the table's columns and rewrote `data` to the attributes alone. No
 * PostgreSQL store held employees before it existed, so there is nothing to rewrite: the update
 * below is the same conversion, for the record, and touches no row on a new database.
 */
export const pgEmployeeAttributesMigration: Migration = {
  version: 5,
  name: 'employee-attributes',
  sql: `
    UPDATE dir_employees SET data = COALESCE((data::jsonb -> 'attributes')::text, '{}');
  `,
};
