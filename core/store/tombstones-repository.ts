import type { Statement } from 'better-sqlite3';
import type { Database } from './database';
import { SqliteJournalRepository } from './journal-repository';
import type { NewTombstone, Tombstone, TombstoneFilter, TombstoneRepository } from './ports/jobs';

export interface TombstoneRow {
  id: number; file_id: string | null; account_id: string; path: string; name: string; size: number | null;
  sha256: string | null; rule: string; deleted_at: number; as_of: number | null; state: 'pending' | 'done';
  inode: string | null; detail: string;
}

export const toTombstone = (r: TombstoneRow): Tombstone => ({
  id: r.id, fileId: r.file_id, accountId: r.account_id, path: r.path, name: r.name, size: r.size,
  sha256: r.sha256, rule: r.rule, deletedAt: r.deleted_at, asOf: r.as_of, state: r.state, inode: r.inode,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
});

/**
 * Tombstones are written in two steps around the unlink: `intend` (pending) before the file
 * is removed, `confirm` after. A crash in between leaves a pending tombstone that the next run
 * reconciles, so no deletion goes unrecorded and none is recorded twice.
 */
export class SqliteTombstoneRepository implements TombstoneRepository {
  private readonly insert: Statement;
  private readonly byId: Statement;
  private readonly markDone: Statement;

  constructor(private readonly db: Database, private readonly journal = new SqliteJournalRepository(db)) {
    this.insert = db.prepare(`INSERT INTO tombstones (file_id, account_id, path, name, size, sha256, rule, deleted_at, as_of, state, inode, detail)
      VALUES (@fileId, @accountId, @path, @name, @size, @sha256, @rule, @deletedAt, @asOf, 'pending', @inode, @detail) RETURNING *`);
    this.byId = db.prepare('SELECT * FROM tombstones WHERE id = ?');
    this.markDone = db.prepare(`UPDATE tombstones SET state = 'done', deleted_at = ?, detail = ? WHERE id = ?`);
  }

  async intend(t: NewTombstone): Promise<Tombstone> {
    return toTombstone(this.insert.get({ ...t, detail: JSON.stringify(t.detail) }) as TombstoneRow);
  }

  /**
   * Marks the deletion done and, when the file is in the journal, its row `deleted`
   * with an event on its timeline, in one transaction.
   */
  async confirm(id: number, extraDetail: Record<string, unknown> = {}, now = Date.now()): Promise<void> {
    this.db.transaction(() => {
      const t = this.getNow(id);
      if (!t || t.state === 'done') return;
      const detail = { ...t.detail, ...extraDetail };
      this.markDone.run(now, JSON.stringify(detail), id);
      // Only the deletion of the input file itself (not of its report) ends the row's life.
      if (t.fileId) this.journal.recordDeletion(t.fileId, t.path, { rule: t.rule, tombstone: t.id }, now);
    }).immediate();
  }

  /** Withdraws an intent whose deletion is known not to have happened (the unlink failed). */
  async discard(id: number): Promise<void> {
    this.db.prepare(`DELETE FROM tombstones WHERE id = ? AND state = 'pending'`).run(id);
  }

  async get(id: number): Promise<Tombstone | undefined> {
    return this.getNow(id);
  }

  private getNow(id: number): Tombstone | undefined {
    const row = this.byId.get(id) as TombstoneRow | undefined;
    return row && toTombstone(row);
  }

  async pending(): Promise<Tombstone[]> {
    return (this.db.prepare(`SELECT * FROM tombstones WHERE state = 'pending' ORDER BY id`).all() as TombstoneRow[]).map(toTombstone);
  }

  async list(filter: TombstoneFilter = {}): Promise<Tombstone[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit ?? -1 };
    if (filter.accountId) { where.push('account_id = @accountId'); params.accountId = filter.accountId; }
    if (filter.fileId) { where.push('file_id = @fileId'); params.fileId = filter.fileId; }
    if (filter.name) { where.push(`instr(name, @name) > 0`); params.name = filter.name; }
    const sql = `SELECT * FROM tombstones ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as TombstoneRow[]).map(toTombstone);
  }
}
