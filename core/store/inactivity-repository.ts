import type { Database } from './database';

export interface InactivityMark {
  accountId: string;
  /** The last-activity time the account was disabled for (last login, or creation). */
  basisAt: number;
  disabledAt: number;
}

/**
 * Remembers that the account-inactivity job disabled an account for a given period of
 * inactivity, so that an operator's `account enable` is not undone by the next run: the
 * account stays enabled until a login (new basis) or the purge deadline.
 */
export class InactivityRepository {
  constructor(private readonly db: Database) {}

  get(accountId: string): InactivityMark | undefined {
    const r = this.db.prepare('SELECT * FROM inactivity_marks WHERE account_id = ?').get(accountId) as
      { account_id: string; basis_at: number; disabled_at: number } | undefined;
    return r && { accountId: r.account_id, basisAt: r.basis_at, disabledAt: r.disabled_at };
  }

  set(mark: InactivityMark): void {
    this.db.prepare(`INSERT INTO inactivity_marks (account_id, basis_at, disabled_at) VALUES (?, ?, ?)
      ON CONFLICT (account_id) DO UPDATE SET basis_at = excluded.basis_at, disabled_at = excluded.disabled_at`)
      .run(mark.accountId, mark.basisAt, mark.disabledAt);
  }

  clear(accountId: string): void {
    this.db.prepare('DELETE FROM inactivity_marks WHERE account_id = ?').run(accountId);
  }
}
