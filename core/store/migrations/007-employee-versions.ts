import type { Migration } from './types';

/**
 * The employee as it was before a file replaced it (`data`: the whole employee as JSON, its
 * attributes decoded), kept by the directory store in the transaction of the replacing update
 * when the writer asks (WriteOptions.keepPrevious). A handler that may have to undo a row
 * later in the same file (sal: the same key twice with different data) restores it from here;
 * unlike a temporary table it survives a crash, so the retry of a file killed part way can still
 * undo what the killed attempt did. Rows live while their file is being processed: the handler
 * forgets them when its undo commits, and when a fresh run of the file begins (a replay).
 * `kept_at`: when the row was kept (epoch ms), for operators looking at leftovers.
 */
export const employeeVersionsMigration: Migration = {
  version: 7,
  name: 'employee-versions',
  sql: `
    CREATE TABLE dir_employee_versions (
      account_id TEXT NOT NULL,
      file_id TEXT NOT NULL,
      organization_code TEXT NOT NULL,
      registration_reference TEXT NOT NULL,
      data TEXT NOT NULL,
      kept_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, file_id, organization_code, registration_reference)
    ) WITHOUT ROWID;
  `,
};
