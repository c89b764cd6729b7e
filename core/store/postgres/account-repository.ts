import { DIRECTORY_TABLES, type DirectoryCounts } from '../account-data-repository';
import { toAccount, toKey, type AccountRow, type KeyRow } from '../accounts-repository';
import type { NewEvent } from '../event-types';
import type {
  Account, AccountKey, AccountPatch, AccountRef, AccountRepository, NewAccount, NewAccountEntry, NewAccountKey,
} from '../ports/accounts';
import { recordEvent } from './event-outbox';
import type { PgPool, Queryable } from './pool';

/** AccountPatch's fields: their column (fixed names, never from input) and how each is stored. */
const PATCH_COLUMNS: Record<keyof AccountPatch, [string, (v: never) => unknown]> = {
  partner: ['partner', (v) => v], allowIps: ['allow_ips', (v) => JSON.stringify(v)],
  passwordHash: ['password_hash', (v) => v], options: ['options', (v) => JSON.stringify(v)],
  lastLoginAt: ['last_login_at', (v) => v], purgedAt: ['purged_at', (v) => v],
};

const EMPTY_COUNTS = (): DirectoryCounts => ({ organizations: 0, employees: 0, users: 0, documents: 0, employeeVersions: 0 });

/**
 * Accounts and their keys in PostgreSQL. Every read goes to the database, so a change made on
 * any node takes effect at the next login on all of them; `changeStamp()` reads the count of
 * account changes that migration 018's triggers keep, so open sessions on every node re-check.
 */
export class PostgresAccountRepository implements AccountRepository {
  constructor(private readonly db: PgPool) {}

  async get(id: string): Promise<Account | undefined> { return getAccount(this.db, id); }

  async list(): Promise<Account[]> {
    return (await this.db.rows<AccountRow>('SELECT * FROM accounts ORDER BY id')).map(toAccount);
  }

  async pageAfter(afterId: string, limit: number): Promise<AccountRef[]> {
    return this.db.rows<AccountRef>('SELECT id, profile FROM accounts WHERE id > $1 AND purged_at IS NULL ORDER BY id LIMIT $2', [afterId, limit]);
  }

  async countLive(): Promise<number> {
    return (await this.db.row<{ n: number }>('SELECT count(*) AS n FROM accounts WHERE purged_at IS NULL'))!.n;
  }

  async setEnabled(id: string, enabled: boolean, reason: string | null = null, at = Date.now()): Promise<boolean> {
    return this.db.transaction((tx) => setAccountEnabled(tx, id, enabled, reason, at));
  }

  async update(id: string, patch: AccountPatch): Promise<boolean> { return update(this.db, id, patch); }

  async anyPassword(): Promise<boolean> {
    return (await this.db.row('SELECT 1 FROM accounts WHERE password_hash IS NOT NULL LIMIT 1')) !== undefined;
  }

  async recordLogin(id: string, at = Date.now()): Promise<void> {
    await this.db.run('UPDATE accounts SET last_login_at = $1 WHERE id = $2', [at, id]);
  }

  async keys(accountId: string): Promise<AccountKey[]> { return keysOf(this.db, accountId); }

  async allKeys(): Promise<AccountKey[]> {
    return (await this.db.rows<KeyRow>('SELECT * FROM account_keys ORDER BY account_id, id')).map(toKey);
  }

  async findKey(accountId: string, fingerprint: string): Promise<AccountKey | undefined> {
    const row = await this.db.row<KeyRow>('SELECT * FROM account_keys WHERE account_id = $1 AND fingerprint = $2', [accountId, fingerprint]);
    return row && toKey(row);
  }

  async addKey(k: NewAccountKey): Promise<AccountKey> { return addKey(this.db, k); }

  async removeKey(accountId: string, fingerprint: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM account_keys WHERE account_id = $1 AND fingerprint = $2', [accountId, fingerprint])) > 0;
  }

  /**
   * The count of committed account and key changes, from any node (migration 018): it moves in
   * the transaction of the change, so a session that reads the new value reads the new rows too.
   */
  async changeStamp(): Promise<string> {
    const row = await this.db.row<{ changes: number }>('SELECT changes FROM account_changes WHERE id = 1');
    return String(row?.changes ?? 0);
  }

  /** Inserts the accounts with their keys in one transaction; an id that exists by then (another node created it) is skipped. */
  async insertAccounts(entries: NewAccountEntry[], at = Date.now()): Promise<Array<{ account: Account; keys: AccountKey[] } | undefined>> {
    return this.db.transaction(async (tx) => {
      const result: Array<{ account: Account; keys: AccountKey[] } | undefined> = [];
      for (const e of entries) {
        let account = await insertAccount(tx, e.account);
        if (!account) { result.push(undefined); continue; }
        const keys: AccountKey[] = [];
        for (const k of e.keys) keys.push(await addKey(tx, k));
        if (e.disabledReason !== undefined) {
          await setAccountEnabled(tx, account.id, false, e.disabledReason, at);
          account = (await getAccount(tx, account.id))!;
        }
        result.push({ account, keys });
      }
      return result;
    });
  }

  async expireKey(id: number, at: number, event: NewEvent): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE account_keys SET expired_at = $1 WHERE id = $2 AND expired_at IS NULL', [at, id]);
      await recordEvent(tx, event);
    });
  }

  async warnKey(id: number, at: number, event: NewEvent): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE account_keys SET warned_at = $1 WHERE id = $2', [at, id]);
      await recordEvent(tx, event);
    });
  }

  async purgeRows(id: string, at: number, reason: string, eventOf: (deleted: DirectoryCounts) => NewEvent): Promise<DirectoryCounts> {
    return this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM account_keys WHERE account_id = $1', [id]);
      await setAccountEnabled(tx, id, false, reason, at);
      await update(tx, id, { purgedAt: at, passwordHash: null });
      const deleted = EMPTY_COUNTS();
      for (const [name, table] of DIRECTORY_TABLES) deleted[name] = await tx.run(`DELETE FROM ${table} WHERE account_id = $1`, [id]);
      await recordEvent(tx, eventOf(deleted));
      return deleted;
    });
  }

  async directoryCounts(accountId: string): Promise<DirectoryCounts> {
    const counts = EMPTY_COUNTS();
    const sql = DIRECTORY_TABLES.map(([name, table]) => `(SELECT count(*) FROM ${table} WHERE account_id = $1) AS "${name}"`).join(', ');
    return { ...counts, ...await this.db.row<DirectoryCounts>(`SELECT ${sql}`, [accountId]) };
  }
}

async function getAccount(q: Queryable, id: string): Promise<Account | undefined> {
  const row = await q.row<AccountRow>('SELECT * FROM accounts WHERE id = $1', [id]);
  return row && toAccount(row);
}

async function keysOf(q: Queryable, accountId: string): Promise<AccountKey[]> {
  return (await q.rows<KeyRow>('SELECT * FROM account_keys WHERE account_id = $1 ORDER BY added_at, id', [accountId])).map(toKey);
}

/** The new account, or undefined when the id exists (nothing is changed then). */
async function insertAccount(q: Queryable, a: NewAccount): Promise<Account | undefined> {
  const row = await q.row<AccountRow>(`INSERT INTO accounts (id, profile, partner, allow_ips, options, created_at) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (id) DO NOTHING RETURNING *`, [a.id, a.profile, a.partner, JSON.stringify(a.allowIps), JSON.stringify(a.options), a.createdAt ?? Date.now()]);
  return row && toAccount(row);
}

async function addKey(q: Queryable, k: NewAccountKey): Promise<AccountKey> {
  const row = await q.row<KeyRow>(`INSERT INTO account_keys (account_id, type, bits, fingerprint, public_key, comment, added_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`, [k.accountId, k.type, k.bits, k.fingerprint, k.publicKey, k.comment, k.addedAt, k.expiresAt]);
  return toKey(row!);
}

/**
 * Enables or disables the account inside a unit of work; disabling an enabled one records
 * `account.disabled` with it. The row is locked first, so two nodes disabling it record one event.
 */
export async function setAccountEnabled(q: Queryable, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean> {
  const was = await q.row<{ enabled: boolean }>('SELECT enabled FROM accounts WHERE id = $1 FOR UPDATE', [id]);
  const changed = await q.run('UPDATE accounts SET enabled = $1, disabled_reason = $2, disabled_at = $3 WHERE id = $4',
    [enabled, enabled ? null : reason, enabled ? null : at, id]);
  if (!enabled && was?.enabled === true) {
    await recordEvent(q, { type: 'account.disabled', at, account: id, summary: `account ${id} disabled${reason ? `: ${reason}` : ''}`, data: { reason } });
  }
  return changed > 0;
}

async function update(q: Queryable, id: string, patch: AccountPatch): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, value] of Object.entries(patch) as Array<[keyof AccountPatch, unknown]>) {
    const [column, convert] = PATCH_COLUMNS[key];
    values.push(convert(value as never));
    sets.push(`${column} = $${values.length}`);
  }
  if (sets.length === 0) return false;
  return (await q.run(`UPDATE accounts SET ${sets.join(', ')} WHERE id = $1`, values)) > 0;
}
