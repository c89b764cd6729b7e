import type { DirectoryCounts } from './account-data-repository';
import { SqliteAccountRows } from './accounts-repository';
import type { Database } from './database';
import type { NewEvent } from './event-types';
import type {
  Account, AccountKey, AccountPatch, AccountRef, AccountRepository, NewAccountEntry, NewAccountKey,
} from './ports/accounts';

/**
 * AccountRepository in SQLite: each method runs SqliteAccountRows' synchronous statements (one
 * microtask more than a direct call); its units of work are one better-sqlite3 transaction each.
 */
export class SqliteAccountRepository implements AccountRepository {
  /** The synchronous rows, for what is not converted yet (docs/store.md). */
  readonly rows: SqliteAccountRows;

  constructor(db: Database) {
    this.rows = new SqliteAccountRows(db);
  }

  async get(id: string): Promise<Account | undefined> { return this.rows.get(id); }
  async list(): Promise<Account[]> { return this.rows.list(); }
  async pageAfter(afterId: string, limit: number): Promise<AccountRef[]> { return this.rows.pageAfter(afterId, limit); }
  async countLive(): Promise<number> { return this.rows.countLive(); }
  async setEnabled(id: string, enabled: boolean, reason: string | null = null, at = Date.now()): Promise<boolean> {
    return this.rows.setEnabled(id, enabled, reason, at);
  }
  async update(id: string, patch: AccountPatch): Promise<boolean> { return this.rows.update(id, patch); }
  async anyPassword(): Promise<boolean> { return this.rows.anyPassword(); }
  async recordLogin(id: string, at = Date.now()): Promise<void> { this.rows.recordLogin(id, at); }
  async keys(accountId: string): Promise<AccountKey[]> { return this.rows.keys(accountId); }
  async allKeys(): Promise<AccountKey[]> { return this.rows.allKeys(); }
  async findKey(accountId: string, fingerprint: string): Promise<AccountKey | undefined> { return this.rows.findKey(accountId, fingerprint); }
  async addKey(k: NewAccountKey): Promise<AccountKey> { return this.rows.addKey(k); }
  async removeKey(accountId: string, fingerprint: string): Promise<boolean> { return this.rows.removeKey(accountId, fingerprint); }
  async changeStamp(): Promise<string> { return this.rows.changeStamp(); }
  async insertAccounts(entries: NewAccountEntry[], at = Date.now()): Promise<Array<{ account: Account; keys: AccountKey[] } | undefined>> {
    return this.rows.insertAccounts(entries, at);
  }
  async expireKey(id: number, at: number, event: NewEvent): Promise<void> { this.rows.expireKey(id, at, event); }
  async warnKey(id: number, at: number, event: NewEvent): Promise<void> { this.rows.warnKey(id, at, event); }
  async purgeRows(id: string, at: number, reason: string, eventOf: (deleted: DirectoryCounts) => NewEvent): Promise<DirectoryCounts> {
    return this.rows.purgeRows(id, at, reason, eventOf);
  }
  async directoryCounts(accountId: string): Promise<DirectoryCounts> { return this.rows.data.directoryCounts(accountId); }
}
