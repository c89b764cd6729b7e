import type { Migration } from '../../migrations/types';

/** SQLite's 002 (the HR directory). WITHOUT ROWID has no PostgreSQL counterpart (nor need of one). */
export const pgDirectoryMigration: Migration = {
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
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, code)
    );

    CREATE TABLE dir_employees (
      account_id TEXT NOT NULL,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      technical_id TEXT,
      email TEXT,
      lastname TEXT NOT NULL,
      firstname TEXT NOT NULL,
      active BOOLEAN NOT NULL,
      departure_date TEXT,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, organization_code, registration_reference)
    );
    CREATE INDEX dir_employees_technical_id ON dir_employees (account_id, technical_id) WHERE technical_id IS NOT NULL;
    -- SQLite's (email COLLATE NOCASE): lookups compare lower(email) = lower($1).
    CREATE INDEX dir_employees_email ON dir_employees (account_id, lower(email)) WHERE email IS NOT NULL;

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
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, login)
    );

    CREATE TABLE dir_documents (
      account_id TEXT NOT NULL,
      external_reference TEXT NOT NULL,
      title TEXT NOT NULL,
      document_date TEXT,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      vault_path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size BIGINT NOT NULL,
      data TEXT NOT NULL,
      source_file TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, external_reference)
    );
    CREATE INDEX dir_documents_employee ON dir_documents (account_id, organization_code, registration_reference);
  `,
};
