import type { InactivityMark, InactivityRepository } from '../ports/jobs';
import { setAccountEnabled } from './account-repository';
import type { PgPool, Queryable } from './pool';

/** The account-inactivity job's marks in PostgreSQL (see the port). */
export class PostgresInactivityRepository implements InactivityRepository {
  constructor(private readonly db: PgPool) {}

  async get(accountId: string): Promise<InactivityMark | undefined> {
    const r = await this.db.row<{ account_id: string; basis_at: number; disabled_at: number }>('SELECT * FROM inactivity_marks WHERE account_id = $1', [accountId]);
    return r && { accountId: r.account_id, basisAt: r.basis_at, disabledAt: r.disabled_at };
  }

  async set(mark: InactivityMark): Promise<void> { await setMark(this.db, mark); }

  async clear(accountId: string): Promise<void> {
    await this.db.run('DELETE FROM inactivity_marks WHERE account_id = $1', [accountId]);
  }

  async disableAccount(mark: InactivityMark, reason: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await setAccountEnabled(tx, mark.accountId, false, reason, mark.disabledAt);
      await setMark(tx, mark);
    });
  }
}

async function setMark(q: Queryable, mark: InactivityMark): Promise<void> {
  await q.run(`INSERT INTO inactivity_marks (account_id, basis_at, disabled_at) VALUES ($1, $2, $3)
    ON CONFLICT (account_id) DO UPDATE SET basis_at = excluded.basis_at, disabled_at = excluded.disabled_at`, [mark.accountId, mark.basisAt, mark.disabledAt]);
}
