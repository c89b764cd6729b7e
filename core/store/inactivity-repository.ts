import { SqliteAccountRows } from './accounts-repository';
import type { Database } from './database';
import type { InactivityMark, InactivityRepository } from './ports/jobs';

/**
 * Remembers that the account-inactivity job disabled an account for a given period of
 * inactivity, so that an operator's `account enable` is not undone by the next run: the
 * account stays enabled until a login (new basis) or the purge deadline.
 */
export class SqliteInactivityRepository implements InactivityRepository {
  constructor(private readonly db: Database) {}

  async get(accountId: string): Promise<InactivityMark | undefined> {
    const r = this.db.prepare('SELECT * FROM inactivity_marks WHERE account_id = ?').get(accountId) as
      { account_id: string; basis_at: number; disabled_at: number } | undefined;
    return r && { accountId: r.account_id, basisAt: r.basis_at, disabledAt: r.disabled_at };
  }

  private setNow(mark: InactivityMark): void {
    this.db.prepare(`INSERT INTO inactivity_marks (account_id, basis_at, disabled_at) VALUES (?, ?, ?)
      ON CONFLICT (account_id) DO UPDATE SET basis_at = excluded.basis_at, disabled_at = excluded.disabled_at`)
      .run(mark.accountId, mark.basisAt, mark.disabledAt);
  }

  async disableAccount(mark: InactivityMark, reason: string): Promise<void> {
    const accounts = new SqliteAccountRows(this.db);
    this.db.transaction(() => {
      accounts.setEnabled(mark.accountId, false, reason, mark.disabledAt);
      this.setNow(mark);
    })();
  }

  async set(mark: InactivityMark): Promise<void> {
    this.setNow(mark);
  }

  async clear(accountId: string): Promise<void> {
    this.db.prepare('DELETE FROM inactivity_marks WHERE account_id = ?').run(accountId);
  }
}
