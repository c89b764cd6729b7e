import type { JournalRowAt, RecordedOutput, RetainedInput, RetentionRepository, SeenFile } from '../ports/jobs';
import { toRetainedInput, type InputRow } from '../retention-repository';
import type { PgPool } from './pool';

interface RowAt { id: string; location: string; state: string; size: number; sha256: string; received_at: number }

const COLUMNS = 'id, account_id, name, state, location, size, sha256, received_at, processed_at';
type Cutoffs = { processedBefore: number; receivedBefore: number };
/**
 * Each kind of finished row in the order of its index, a page after the last row seen (`after`):
 * the journal grows forever (mostly rows already `deleted`), the daily run must not.
 */
const FINISHED_PAGES: ReadonlyArray<{ sql: string; params: (c: Cutoffs, after: [number, string], limit: number) => unknown[]; key: (r: InputRow) => [number, string] }> = [
  { sql: `SELECT ${COLUMNS} FROM files WHERE state = 'processed' AND processed_at <= $1 AND (processed_at, id) > ($2, $3) ORDER BY processed_at, id LIMIT $4`,
    params: (c, after, limit) => [c.processedBefore, after[0], after[1], limit], key: (r) => [r.processed_at!, r.id] },
  // Rows of versions that did not record processed_at: counted from reception.
  { sql: `SELECT ${COLUMNS} FROM files WHERE state = 'processed' AND processed_at IS NULL AND received_at <= $1 AND id > $2 ORDER BY id LIMIT $3`,
    params: (c, after, limit) => [c.processedBefore, after[1], limit], key: (r) => [0, r.id] },
  { sql: `SELECT ${COLUMNS} FROM files WHERE state = 'rejected' AND received_at <= $1 AND (received_at, id) > ($2, $3) ORDER BY received_at, id LIMIT $4`,
    params: (c, after, limit) => [c.receivedBefore, after[0], after[1], limit], key: (r) => [r.received_at, r.id] },
  { sql: `SELECT ${COLUMNS} FROM files WHERE state = 'dead' AND received_at <= $1 AND (received_at, id) > ($2, $3) ORDER BY received_at, id LIMIT $4`,
    params: (c, after, limit) => [c.receivedBefore, after[0], after[1], limit], key: (r) => [r.received_at, r.id] },
];

const toRowAt = (r: RowAt): JournalRowAt => ({ fileId: r.id, state: r.state, size: r.size, sha256: r.sha256, receivedAt: r.received_at });

/** What retention reads from the journal, and the first-seen registry, in PostgreSQL (see the port). */
export class PostgresRetentionRepository implements RetentionRepository {
  constructor(private readonly db: PgPool) {}

  async *finishedInputs(cutoffs: { processedBefore: number; receivedBefore: number }, pageSize = 500): AsyncGenerator<RetainedInput> {
    for (const { sql, params, key } of FINISHED_PAGES) {
      let after: [number, string] = [-1, ''];
      for (;;) {
        const rows = await this.db.rows<InputRow>(sql, params(cutoffs, after, pageSize));
        for (const r of rows) yield toRetainedInput(r);
        if (rows.length < pageSize) break;
        after = key(rows[rows.length - 1]);
      }
    }
  }

  async journalRowAt(location: string): Promise<JournalRowAt | undefined> {
    const r = await this.db.row<RowAt>(`SELECT id, location, state, size, sha256, received_at FROM files WHERE location = $1 AND state <> 'deleted'
      ORDER BY state IN ('received', 'processing', 'failed') DESC LIMIT 1`, [location]);
    return r && toRowAt(r);
  }

  async journalAt(accountId: string): Promise<Map<string, JournalRowAt>> {
    const rows = await this.db.rows<RowAt>(`SELECT id, location, state, size, sha256, received_at FROM files WHERE account_id = $1 AND state <> 'deleted'`, [accountId]);
    return new Map(rows.map((r) => [r.location, toRowAt(r)]));
  }

  async latestOutput(accountId: string, path: string): Promise<RecordedOutput | undefined> {
    const r = await this.db.row<{ file_id: string | null; account_id: string; kind: 'receipt' | 'report'; path: string; created_at: number }>(
      'SELECT file_id, account_id, kind, path, created_at FROM outputs WHERE path = $1 AND account_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1', [path, accountId]);
    return r && { fileId: r.file_id, accountId: r.account_id, kind: r.kind, path: r.path, createdAt: r.created_at };
  }

  async undeletedFiles(accountId: string): Promise<Array<{ fileId: string; location: string; name: string; size: number; sha256: string }>> {
    return (await this.db.rows<{ id: string; location: string; name: string; size: number; sha256: string }>(
      `SELECT id, location, name, size, sha256 FROM files WHERE account_id = $1 AND state <> 'deleted'`, [accountId]))
      .map((r) => ({ fileId: r.id, location: r.location, name: r.name, size: r.size, sha256: r.sha256 }));
  }

  async seen(accountId: string): Promise<Map<string, SeenFile>> {
    const rows = await this.db.rows<{ path: string; account_id: string; inode: string; first_seen_at: number }>(
      'SELECT path, account_id, inode, first_seen_at FROM retention_seen WHERE account_id = $1', [accountId]);
    return new Map(rows.map((r) => [r.path, { path: r.path, accountId: r.account_id, inode: r.inode, firstSeenAt: r.first_seen_at }]));
  }

  /** Replaces the account's registry with what a scan saw, in one transaction (one INSERT of arrays, not one per file). */
  async replaceSeen(accountId: string, files: SeenFile[], now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM retention_seen WHERE account_id = $1', [accountId]);
      // One row per path (the last given wins, as row-by-row upserts would): one statement cannot upsert a row twice.
      const byPath = [...new Map(files.map((f) => [f.path, f])).values()];
      if (byPath.length === 0) return;
      await tx.run(`INSERT INTO retention_seen (path, account_id, inode, first_seen_at, last_seen_at)
        SELECT path, $1, inode, first_seen_at, $2 FROM unnest($3::text[], $4::text[], $5::bigint[]) AS f (path, inode, first_seen_at)
        ON CONFLICT (path) DO UPDATE SET account_id = excluded.account_id, inode = excluded.inode,
          first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at`,
      [accountId, now, byPath.map((f) => f.path), byPath.map((f) => f.inode), byPath.map((f) => f.firstSeenAt)]);
    });
  }

  async forgetAccount(accountId: string): Promise<void> {
    await this.db.run('DELETE FROM retention_seen WHERE account_id = $1', [accountId]);
  }
}
