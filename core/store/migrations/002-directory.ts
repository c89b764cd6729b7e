import type { Migration } from './types';

/** The HR directory: organizations, employees, users, documents (owned by the directory store). */
export const directoryMigration: Migration = {
  version: 2,
  name: 'directory',
  sql: `SELECT 1;`,
};
