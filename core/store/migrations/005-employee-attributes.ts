import type { Migration } from './types';

/**
 * Employees keep only their attributes in `data`: the key and searchable fields are real
 * columns already, and the whole-entity JSON of 002 repeated them (with their names) in every
 * row. That was about half of each row's bytes, and on a 200,000-row sal file most of the
 * time SQLite spent writing. Other tables are unchanged. Existing rows are converted here.
 */
export const employeeAttributesMigration: Migration = {
  version: 5,
  name: 'employee-attributes',
  sql: `
    CREATE TABLE dir_employees_005 (
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
    INSERT INTO dir_employees_005
      SELECT account_id, organization_code, registration_reference, technical_id, email, lastname, firstname, active,
             departure_date, COALESCE(json_extract(data, '$.attributes'), '{}'), source_file, created_at, updated_at
      FROM dir_employees;
    DROP TABLE dir_employees;
    ALTER TABLE dir_employees_005 RENAME TO dir_employees;
    CREATE INDEX dir_employees_technical_id ON dir_employees (account_id, technical_id) WHERE technical_id IS NOT NULL;
    CREATE INDEX dir_employees_email ON dir_employees (account_id, email COLLATE NOCASE) WHERE email IS NOT NULL;
  `,
};
