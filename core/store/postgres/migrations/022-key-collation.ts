import type { Migration } from '../../migrations/types';

const C = 'TEXT COLLATE "C"';
const alter = (table: string, columns: readonly string[]): string =>
  `ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE ${C}`).join(', ')};`;

/**
 * The directory's key columns compare byte by byte ("C"), as SQLite's BINARY columns do. Keys
 * are identifiers, never sorted for people, and a database's default collation (en_US.UTF-8,
 * even C.UTF-8) compares through the C library's strcoll: every primary-key insert and lookup
 * paid for it (a 200,000-row sal file's COPY is ~15 % cheaper in PostgreSQL's CPU with "C",
 * docs/cluster.md). The type does not change, so no table is rewritten; each index over these
 * columns is rebuilt, under the table's exclusive lock (nodes migrate one at a time at start).
 * Equality with a parameter or an unnest column keeps working: a column's explicit collation
 * wins over the default one of the other side. E-mail columns keep the default collation:
 * their index is on lower(email), and lower() under "C" folds ASCII letters only.
 */
export const pgKeyCollationMigration: Migration = {
  version: 22,
  name: 'key-collation',
  sql: [
    alter('dir_organizations', ['account_id', 'code', 'parent_code']),
    alter('dir_employees', ['account_id', 'organization_code', 'registration_reference', 'technical_id']),
    alter('dir_employee_versions', ['account_id', 'file_id', 'organization_code', 'registration_reference']),
    alter('dir_users', ['account_id', 'login']),
    alter('dir_documents', ['account_id', 'external_reference', 'organization_code', 'registration_reference']),
  ].join('\n'),
};
