import type { Migration } from './types';

/**
 * The HR directory: organizations, employees, users, documents (owned by the directory store).
 * Every key starts with the account id: accounts never see each other's rows. Key columns
 * are real columns (for lookups and the CLI); `data` holds the whole validated entity as
 * canonical JSON, which is also what "unchanged" is decided on. Times are epoch milliseconds.
 */
export const directoryMigration: Migration = {
  version: 2,
  name: 'directory',
  sql: `
    CREATE TABLE dir_organizations (
      account_id TEXT NOT NULL,
      code TEXT NOT NULL,
      name TEXT NOT NULL,
      parent_code TEXT,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, code)
    ) WITHOUT ROWID;

    CREATE TABLE dir_employees (
      account_id TEXT NOT NULL,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      technical_id TEXT,
      email TEXT,
      lastname TEXT NOT NULL,
      firstname TEXT NOT NULL,
      active INTEGER NOT NULL,
      departure_date TEXT,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, organization_code, registration_reference)
    );
    CREATE INDEX dir_employees_technical_id ON dir_employees (account_id, technical_id) WHERE technical_id IS NOT NULL;
    CREATE INDEX dir_employees_email ON dir_employees (account_id, email COLLATE NOCASE) WHERE email IS NOT NULL;

    CREATE TABLE dir_users (
      account_id TEXT NOT NULL,
      login TEXT NOT NULL,
      email TEXT NOT NULL,
      lastname TEXT NOT NULL,
      firstname TEXT NOT NULL,
      profile_code TEXT NOT NULL,
      organization_codes TEXT NOT NULL,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, login)
    ) WITHOUT ROWID;

    CREATE TABLE dir_documents (
      account_id TEXT NOT NULL,
      external_reference TEXT NOT NULL,
      title TEXT NOT NULL,
      document_date TEXT,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      vault_path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size INTEGER NOT NULL,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, external_reference)
    ) WITHOUT ROWID;
    CREATE INDEX dir_documents_employee ON dir_documents (account_id, organization_code, registration_reference);
  `,
};
