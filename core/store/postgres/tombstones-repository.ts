import type { NewTombstone, Tombstone, TombstoneFilter, TombstoneRepository } from '../ports/jobs';
import { toTombstone, type TombstoneRow } from '../tombstones-repository';
import type { PgPool } from './pool';

/** Tombstones in PostgreSQL: intent (pending) before the unlink, confirmation after (see the port). */
export class PostgresTombstoneRepository implements TombstoneRepository {
  constructor(private readonly db: PgPool) {}

  async intend(t: NewTombstone): Promise<Tombstone> {
    const row = await this.db.row<TombstoneRow>(`INSERT INTO tombstones (file_id, account_id, path, name, size, sha256, rule, deleted_at, as_of, state, inode, detail)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11) RETURNING *`,
    [t.fileId, t.accountId, t.path, t.name, t.size, t.sha256, t.rule, t.deletedAt, t.asOf, t.inode, JSON.stringify(t.detail)]);
    return toTombstone(row!);
  }

  /**
   * Marks the deletion done and, when the file is in the journal, its row `deleted` (if the
   * file deleted was the row's input) with a `deleted` event on its timeline, in one
   * transaction; the tombstone's row lock makes a second confirmation (another node) a no-op.
   */
  async confirm(id: number, extraDetail: Record<string, unknown> = {}, now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await tx.row<TombstoneRow>('SELECT * FROM tombstones WHERE id = $1 FOR UPDATE', [id]);
      if (!row || row.state === 'done') return;
      const t = toTombstone(row);
      await tx.run(`UPDATE tombstones SET state = 'done', deleted_at = $1, detail = $2 WHERE id = $3`, [now, JSON.stringify({ ...t.detail, ...extraDetail }), id]);
      if (!t.fileId) return;
      // What JournalRepository.recordDeletion does in SQLite: only the deletion of the input file itself ends the row's life.
      const file = await tx.row<{ location: string; state: string }>('SELECT location, state FROM files WHERE id = $1 FOR UPDATE', [t.fileId]);
      if (!file) return;
      if (file.location === t.path && file.state !== 'deleted') {
        await tx.run(`UPDATE files SET state = 'deleted', updated_at = $1 WHERE id = $2`, [now, t.fileId]);
      }
      await tx.run('INSERT INTO file_events (file_id, at, type, detail) VALUES ($1, $2, $3, $4)',
        [t.fileId, now, 'deleted', JSON.stringify({ path: t.path, rule: t.rule, tombstone: t.id })]);
    });
  }

  /** Withdraws an intent whose deletion is known not to have happened (the unlink failed). */
  async discard(id: number): Promise<void> {
    await this.db.run(`DELETE FROM tombstones WHERE id = $1 AND state = 'pending'`, [id]);
  }

  async get(id: number): Promise<Tombstone | undefined> {
    const row = await this.db.row<TombstoneRow>('SELECT * FROM tombstones WHERE id = $1', [id]);
    return row && toTombstone(row);
  }

  async pending(): Promise<Tombstone[]> {
    return (await this.db.rows<TombstoneRow>(`SELECT * FROM tombstones WHERE state = 'pending' ORDER BY id`)).map(toTombstone);
  }

  async list(filter: TombstoneFilter = {}): Promise<Tombstone[]> {
    // LIMIT NULL is no limit; strpos is SQLite's instr (a plain substring, no wildcard).
    return (await this.db.rows<TombstoneRow>(`SELECT * FROM tombstones
      WHERE ($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR file_id = $2) AND ($3::text IS NULL OR strpos(name, $3) > 0)
      ORDER BY id LIMIT $4`, [filter.accountId || null, filter.fileId || null, filter.name || null, filter.limit ?? null])).map(toTombstone);
  }
}
