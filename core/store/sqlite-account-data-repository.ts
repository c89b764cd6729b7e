import { AccountDataRows, DIRECTORY_SECTIONS } from './account-data-repository';
import type { Database } from './database';
import type {
  AccountDataRepository, AccountRowCounts, AccountSections, LiveLease, RowRemoval,
} from './ports/account-data';

/** What an account owns beyond its row, on SQLite: `account remove`'s reads and its unit of work. */
export class SqliteAccountDataRepository implements AccountDataRepository {
  private readonly rows: AccountDataRows;

  constructor(db: Database) {
    this.rows = new AccountDataRows(db);
  }

  async counts(accountId: string): Promise<AccountRowCounts> {
    return this.rows.counts(accountId);
  }

  async liveLeases(accountId: string, now = Date.now()): Promise<LiveLease[]> {
    return this.rows.liveLeases(accountId, now);
  }

  async sections(accountId: string): Promise<AccountSections> {
    return this.sectionsNow(accountId);
  }

  /**
   * In one IMMEDIATE transaction (it holds the write lock from its start: no writer of another
   * connection interleaves): the busy check, the re-read the caller compares, the delete.
   */
  async removeAccountRows(accountId: string, unchanged: (current: AccountSections) => boolean, now = Date.now()): Promise<RowRemoval> {
    return this.rows.exclusive((): RowRemoval => {
      const busy = this.rows.liveLeases(accountId, now);
      if (busy.length > 0) return { busy };
      if (!unchanged(this.sectionsNow(accountId))) return { changed: true };
      return { removed: this.rows.deleteAll(accountId) };
    });
  }

  /** Each section reads its rows when it is iterated (an export streams them to its file). */
  private sectionsNow(accountId: string): AccountSections {
    return {
      directory: DIRECTORY_SECTIONS.map((name) => ({ name, rows: () => this.rows.directoryRows(accountId, name) })),
      journal: [
        { name: 'files', rows: () => this.rows.journalFiles(accountId) },
        { name: 'outputs', rows: () => this.rows.outputs(accountId) },
      ],
    };
  }
}
