import type { Migration } from '../../migrations/types';

/** SQLite's 007: employees as they were before a file replaced them, while that file is processed. */
export const pgEmployeeVersionsMigration: Migration = {
  version: 7,
  name: 'employee-versions',
  sql: `
    CREATE TABLE dir_employee_versions (
      account_id TEXT NOT NULL,
      file_id TEXT NOT NULL,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      data TEXT NOT NULL,
      kept_at BIGINT NOT NULL,
      PRIMARY KEY (account_id, file_id, organization_code, registration_reference)
    );
  `,
};
