import type { Database } from './database';

/**
 * What employee writes with WriteOptions.keepPrevious kept (migration 007): per file and key,
 * the employee as JSON as it was before the file replaced it. Written by the directory store in
 * the transaction of the update, so it is in the database exactly when the update is: a retry
 * after a crash finds both, or neither.
 */
export class EmployeeVersions {
  /** Keeps the row unless the file already kept one for the key. */
  private readonly keepFirst;
  /** Keeps the row over one the file kept earlier. */
  private readonly keepOver;
  private readonly select;
  private readonly forgetFile;

  constructor(db: Database) {
    const insert = `INSERT INTO dir_employee_versions (account_id, file_id, organization_code, registration_reference, data, kept_at)
      VALUES (?, ?, ?, ?, ?, ?)`;
    this.keepFirst = db.prepare(`${insert} ON CONFLICT DO NOTHING`);
    this.keepOver = db.prepare(`${insert} ON CONFLICT DO UPDATE SET data = excluded.data, kept_at = excluded.kept_at`);
    this.select = db.prepare(`SELECT data FROM dir_employee_versions
      WHERE account_id = ? AND file_id = ? AND organization_code = ? AND registration_reference = ?`).pluck();
    this.forgetFile = db.prepare('DELETE FROM dir_employee_versions WHERE account_id = ? AND file_id = ?');
  }

  /**
   * Keeps `json`, the employee with key [organization, reference] that file `fileId` is about to
   * replace. `byOtherWriter`: that row was last written by something else than this file. A row
   * the file wrote itself (an earlier write of the same key, in this attempt or an interrupted
   * one) is the file's own data, never what to go back to: the version kept first stays. A row
   * another writer changed since (another file between two attempts of this one) is kept over
   * it: undoing this file must leave that change in place.
   */
  keep(accountId: string, fileId: string, key: readonly unknown[], json: string, byOtherWriter: boolean): void {
    (byOtherWriter ? this.keepOver : this.keepFirst).run(accountId, fileId, key[0], key[1], json, Date.now());
  }

  get(accountId: string, fileId: string, organizationCode: string, registrationReference: string): string | undefined {
    return this.select.get(accountId, fileId, organizationCode, registrationReference) as string | undefined;
  }

  forget(accountId: string, fileId: string): number {
    return this.forgetFile.run(accountId, fileId).changes;
  }
}
