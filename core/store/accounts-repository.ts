import { AccountDataRows, type DirectoryCounts } from './account-data-repository';
import type { Statement } from 'better-sqlite3';
import type { Database } from './database';
import { SqliteEventOutbox } from './event-outbox';
import type { NewEvent } from './event-types';
import type { Account, AccountKey, AccountOptions, AccountPatch, AccountProfile, AccountRef, NewAccount, NewAccountEntry, NewAccountKey } from './ports/accounts';
import { statement } from './statements';

export type { Account, AccountKey, AccountOptions, AccountPatch, AccountProfile, AccountRef, NewAccount, NewAccountEntry, NewAccountKey } from './ports/accounts';

/** `enabled`: SQLite 0/1, PostgreSQL boolean. */
export interface AccountRow {
  id: string; profile: AccountProfile; partner: string | null; enabled: number | boolean;
  disabled_reason: string | null; disabled_at: number | null; allow_ips: string;
  password_hash: string | null; options: string; created_at: number;
  last_login_at: number | null; purged_at: number | null;
}
export interface KeyRow {
  id: number; account_id: string; type: string; bits: number; fingerprint: string;
  public_key: string; comment: string; added_at: number; expires_at: number;
  expired_at: number | null; warned_at: number | null;
}

export const toAccount = (r: AccountRow): Account => ({
  id: r.id, profile: r.profile, partner: r.partner, enabled: r.enabled === 1 || r.enabled === true,
  disabledReason: r.disabled_reason, disabledAt: r.disabled_at,
  allowIps: JSON.parse(r.allow_ips) as string[], passwordHash: r.password_hash,
  options: JSON.parse(r.options) as AccountOptions, createdAt: r.created_at,
  lastLoginAt: r.last_login_at, purgedAt: r.purged_at,
});
export const toKey = (r: KeyRow): AccountKey => ({
  id: r.id, accountId: r.account_id, type: r.type, bits: r.bits, fingerprint: r.fingerprint,
  publicKey: r.public_key, comment: r.comment, addedAt: r.added_at, expiresAt: r.expires_at,
  expiredAt: r.expired_at, warnedAt: r.warned_at,
});

/**
 * Accounts and their keys in SQLite, synchronously: what SqliteAccountRepository (the
 * AccountRepository of core/store/ports) runs, and what the callers not converted yet take
 * (intake, the workflow runner: docs/store.md). Every read goes to the database, so changes made
 * by the CLI in another process take effect at the server's next login without a restart.
 */
export class SqliteAccountRows {
  private dataRepository?: AccountDataRows;
  private stampStatement?: Statement<[], { v: number; t: number }>;
  private pageStatement?: Statement<[string, number], AccountRef>;

  constructor(private readonly db: Database) {}

  /**
   * The rest of what accounts own on the same database (directory, journal, queue…), for
   * removal and purge: reached from here so that whoever holds the accounts holds it too.
   */
  get data(): AccountDataRows {
    this.dataRepository ??= new AccountDataRows(this.db);
    return this.dataRepository;
  }

  /**
   * A value that changes whenever anything is committed to the database: by another connection
   * (another process, e.g. the CLI: SQLite's data_version) or by this one (total_changes). One
   * prepared statement, a few microseconds: SFTP sessions compare it before every request and
   * re-check their login only when it changed (core/sftp/live-logins.ts).
   */
  changeStamp(): string {
    this.stampStatement ??= this.db.prepare('SELECT (SELECT data_version FROM pragma_data_version) AS v, total_changes() AS t');
    const r = this.stampStatement.get()!;
    return `${r.v}:${r.t}`;
  }

  get(id: string): Account | undefined {
    const row = statement(this.db, 'SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return row && toAccount(row);
  }

  list(): Account[] {
    return (this.db.prepare('SELECT * FROM accounts ORDER BY id').all() as AccountRow[]).map(toAccount);
  }

  /**
   * Up to `limit` accounts not purged whose id sorts after `afterId`, in id order: one page of a
   * pass over every account that never holds the whole list (intake's tree scan).
   */
  pageAfter(afterId: string, limit: number): AccountRef[] {
    this.pageStatement ??= this.db.prepare('SELECT id, profile FROM accounts WHERE id > ? AND purged_at IS NULL ORDER BY id LIMIT ?');
    return this.pageStatement.all(afterId, limit);
  }

  /** How many accounts are not purged. */
  countLive(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM accounts WHERE purged_at IS NULL').get() as { n: number }).n;
  }

  insert(a: NewAccount): Account {
    statement(this.db, `INSERT INTO accounts (id, profile, partner, allow_ips, options, created_at)
      VALUES (@id, @profile, @partner, @allowIps, @options, @createdAt)`).run({
      id: a.id, profile: a.profile, partner: a.partner, allowIps: JSON.stringify(a.allowIps),
      options: JSON.stringify(a.options), createdAt: a.createdAt ?? Date.now(),
    });
    return this.get(a.id)!;
  }

  /** Disabling an enabled account records `account.disabled` (issue #22) in the same transaction. */
  setEnabled(id: string, enabled: boolean, reason: string | null = null, at = Date.now()): boolean {
    return this.transaction(() => {
      const was = statement(this.db, 'SELECT enabled FROM accounts WHERE id = ?').pluck().get(id) as number | undefined;
      const r = statement(this.db, `UPDATE accounts SET enabled = ?, disabled_reason = ?, disabled_at = ? WHERE id = ?`)
        .run(enabled ? 1 : 0, enabled ? null : reason, enabled ? null : at, id);
      if (!enabled && was === 1) {
        this.recordEvent({ type: 'account.disabled', at, account: id, summary: `account ${id} disabled${reason ? `: ${reason}` : ''}`, data: { reason } });
      }
      return r.changes > 0;
    }, 'immediate'); // it reads before it writes
  }

  /** Records an event in the outbox on this connection: inside a transaction, it commits with it. */
  recordEvent(event: NewEvent): string {
    return new SqliteEventOutbox(this.db).record(event);
  }

  update(id: string, patch: AccountPatch): boolean {
    const cols: string[] = [];
    const values: Record<string, unknown> = { id };
    const map: Record<string, [string, (v: never) => unknown]> = {
      partner: ['partner', (v) => v], allowIps: ['allow_ips', (v) => JSON.stringify(v)],
      passwordHash: ['password_hash', (v) => v], options: ['options', (v) => JSON.stringify(v)],
      lastLoginAt: ['last_login_at', (v) => v], purgedAt: ['purged_at', (v) => v],
    };
    for (const [key, value] of Object.entries(patch)) {
      const [col, conv] = map[key];
      cols.push(`${col} = @${key}`);
      values[key] = conv(value as never);
    }
    if (cols.length === 0) return false;
    return this.db.prepare(`UPDATE accounts SET ${cols.join(', ')} WHERE id = @id`).run(values).changes > 0;
  }

  /** Whether any account has a (deprecated) password set. */
  anyPassword(): boolean {
    return this.db.prepare('SELECT 1 FROM accounts WHERE password_hash IS NOT NULL LIMIT 1').get() !== undefined;
  }

  recordLogin(id: string, at = Date.now()): void {
    this.db.prepare('UPDATE accounts SET last_login_at = ? WHERE id = ?').run(at, id);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM accounts WHERE id = ?').run(id).changes > 0;
  }

  keys(accountId: string): AccountKey[] {
    return (statement(this.db, 'SELECT * FROM account_keys WHERE account_id = ? ORDER BY added_at, id').all(accountId) as KeyRow[]).map(toKey);
  }

  allKeys(): AccountKey[] {
    return (this.db.prepare('SELECT * FROM account_keys ORDER BY account_id, id').all() as KeyRow[]).map(toKey);
  }

  findKey(accountId: string, fingerprint: string): AccountKey | undefined {
    const row = statement(this.db, 'SELECT * FROM account_keys WHERE account_id = ? AND fingerprint = ?').get(accountId, fingerprint) as KeyRow | undefined;
    return row && toKey(row);
  }

  addKey(k: NewAccountKey): AccountKey {
    statement(this.db, `INSERT INTO account_keys (account_id, type, bits, fingerprint, public_key, comment, added_at, expires_at)
      VALUES (@accountId, @type, @bits, @fingerprint, @publicKey, @comment, @addedAt, @expiresAt)`).run(k);
    return this.findKey(k.accountId, k.fingerprint)!;
  }

  removeKey(accountId: string, fingerprint: string): boolean {
    return this.db.prepare('DELETE FROM account_keys WHERE account_id = ? AND fingerprint = ?').run(accountId, fingerprint).changes > 0;
  }

  markKeyExpired(id: number, at: number): void {
    this.db.prepare('UPDATE account_keys SET expired_at = ? WHERE id = ? AND expired_at IS NULL').run(at, id);
  }

  markKeyWarned(id: number, at: number): void {
    this.db.prepare('UPDATE account_keys SET warned_at = ? WHERE id = ?').run(at, id);
  }

  /**
   * Unit of work: inserts the accounts with their keys, atomically; an id that exists by then
   * (another process created it) is skipped: its entry in the result is undefined. Takes the
   * write lock at once, as it reads before it writes.
   */
  insertAccounts(entries: NewAccountEntry[], at = Date.now()): Array<{ account: Account; keys: AccountKey[] } | undefined> {
    return this.transaction(() => entries.map((e) => {
      if (this.get(e.account.id)) return undefined;
      let account = this.insert(e.account);
      const keys = e.keys.map((k) => this.addKey(k));
      if (e.disabledReason !== undefined) {
        this.setEnabled(account.id, false, e.disabledReason, at);
        account = this.get(account.id)!;
      }
      return { account, keys };
    }), 'immediate');
  }

  /** Unit of work: the key marked expired and its `key.expired` event, atomically. */
  expireKey(id: number, at: number, event: NewEvent): void {
    this.transaction(() => {
      this.markKeyExpired(id, at);
      this.recordEvent(event);
    });
  }

  /** Unit of work: the key marked warned and its `key.expiring` event, atomically. */
  warnKey(id: number, at: number, event: NewEvent): void {
    this.transaction(() => {
      this.markKeyWarned(id, at);
      this.recordEvent(event);
    });
  }

  /**
   * Unit of work, the last step of a purge: the account's keys, password and directory rows
   * deleted, the row kept but disabled and marked purged, and its event (made from what was
   * deleted), atomically. Returns the directory rows deleted.
   */
  purgeRows(id: string, at: number, reason: string, eventOf: (deleted: DirectoryCounts) => NewEvent): DirectoryCounts {
    return this.transaction(() => {
      for (const key of this.keys(id)) this.removeKey(id, key.fingerprint);
      this.setEnabled(id, false, reason, at);
      this.update(id, { purgedAt: at, passwordHash: null });
      const deleted = this.data.deleteDirectory(id);
      this.recordEvent(eventOf(deleted));
      return deleted;
    });
  }

  /**
   * `immediate` takes the write lock at BEGIN: a transaction that reads before it writes would
   * otherwise fail (SQLITE_BUSY, not waited for) when another process wrote in between.
   */
  private transaction<T>(fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    const tx = this.db.transaction(fn);
    return mode === 'immediate' ? tx.immediate() : tx();
  }
}
