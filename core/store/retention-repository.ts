import type { Statement } from 'better-sqlite3';
import type { Database } from './database';
import type { JournalRowAt, RecordedOutput, RetainedInput, RetentionRepository, SeenFile } from './ports/jobs';

/** A journal row as retention reads it, on either engine. */
export interface InputRow {
  id: string; account_id: string; name: string; state: RetainedInput['state']; location: string; size: number;
  sha256: string; received_at: number; processed_at: number | null;
}

export const toRetainedInput = (r: InputRow): RetainedInput => ({
  fileId: r.id, accountId: r.account_id, name: r.name, state: r.state, location: r.location, size: r.size,
  sha256: r.sha256, receivedAt: r.received_at, processedAt: r.processed_at,
});

/**
 * What retention reads from the journal, and the first-seen registry of files the journal
 * does not know (unmatched inputs, partial uploads, other files in out/): their age is counted
 * from when fluxgate first saw them (or their ctime, if earlier), never from a client-settable mtime.
 */
export class SqliteRetentionRepository implements RetentionRepository {
  private readonly finishedPages: ReadonlyArray<{ sql: Statement; key: (r: InputRow) => [number, string] }>;
  private readonly rowAtLocation: Statement;
  private readonly latestOutputAt: Statement;
  private readonly seenOf: Statement;
  private readonly forgetSeen: Statement;
  private readonly insertSeen: Statement;

  constructor(private readonly db: Database) {
    const columns = 'id, account_id, name, state, location, size, sha256, received_at, processed_at';
    // Each kind of finished row in the order of its index, a page after the last row seen: the
    // journal grows forever (mostly rows already `deleted`), the daily run must not.
    const page = (where: string, order: string) => db.prepare(`SELECT ${columns} FROM files WHERE ${where} ORDER BY ${order} LIMIT @limit`);
    this.finishedPages = [
      { sql: page(`state = 'processed' AND processed_at <= @processedBefore AND (processed_at, id) > (@afterAt, @afterId)`, 'processed_at, id'),
        key: (r) => [r.processed_at!, r.id] },
      // Rows of versions that did not record processed_at: counted from reception.
      { sql: page(`state = 'processed' AND processed_at IS NULL AND received_at <= @processedBefore AND id > @afterId`, 'id'),
        key: (r) => [0, r.id] },
      { sql: page(`state = 'rejected' AND received_at <= @receivedBefore AND (received_at, id) > (@afterAt, @afterId)`, 'received_at, id'),
        key: (r) => [r.received_at, r.id] },
      { sql: page(`state = 'dead' AND received_at <= @receivedBefore AND (received_at, id) > (@afterAt, @afterId)`, 'received_at, id'),
        key: (r) => [r.received_at, r.id] },
    ];
    this.rowAtLocation = db.prepare(`SELECT id, state, size, sha256, received_at FROM files WHERE location = ? AND state <> 'deleted'
      ORDER BY state IN ('received', 'processing', 'failed') DESC LIMIT 1`);
    this.latestOutputAt = db.prepare('SELECT file_id, account_id, kind, path, created_at FROM outputs WHERE path = ? AND account_id = ? ORDER BY created_at DESC, id DESC LIMIT 1');
    this.seenOf = db.prepare('SELECT path, account_id, inode, first_seen_at FROM retention_seen WHERE account_id = ?');
    this.forgetSeen = db.prepare('DELETE FROM retention_seen WHERE account_id = ?');
    this.insertSeen = db.prepare(`INSERT INTO retention_seen (path, account_id, inode, first_seen_at, last_seen_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET account_id = excluded.account_id, inode = excluded.inode,
      first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at`);
  }

  /**
   * Inputs the engine is done with, old enough for some rule: processed (archived), rejected or
   * dead (quarantined, or left where they were); `failed` rows are still the engine's (it
   * retries them). A page at a time, each read when the previous one is done with, so the
   * caller may delete (and write to the journal) between pages.
   */
  async *finishedInputs(cutoffs: { processedBefore: number; receivedBefore: number }, pageSize = 500): AsyncGenerator<RetainedInput> {
    for (const { sql, key } of this.finishedPages) {
      let after: [number, string] = [-1, ''];
      for (;;) {
        const rows = sql.all({ ...cutoffs, afterAt: after[0], afterId: after[1], limit: pageSize }) as InputRow[];
        for (const r of rows) yield toRetainedInput(r);
        if (rows.length < pageSize) break;
        after = key(rows[rows.length - 1]);
      }
    }
  }

  /** The journal row (not deleted) whose file is at this location, a live one first. */
  async journalRowAt(location: string): Promise<JournalRowAt | undefined> {
    const r = this.rowAtLocation.get(location) as { id: string; state: string; size: number; sha256: string; received_at: number } | undefined;
    return r && { fileId: r.id, state: r.state, size: r.size, sha256: r.sha256, receivedAt: r.received_at };
  }

  /** Journal rows (any state but deleted) of an account, by location (purges: every row of one account). */
  async journalAt(accountId: string): Promise<Map<string, JournalRowAt>> {
    const rows = this.db.prepare(`SELECT id, location, state, size, sha256, received_at FROM files
      WHERE account_id = ? AND state <> 'deleted'`).all(accountId) as Array<{
      id: string; location: string; state: string; size: number; sha256: string; received_at: number;
    }>;
    return new Map(rows.map((r) => [r.location, { fileId: r.id, state: r.state, size: r.size, sha256: r.sha256, receivedAt: r.received_at }]));
  }

  /**
   * The **latest** record of a report or receipt of the account at this path (absolute, or
   * account-relative in old records). A path is written again by a replay, or by a file uploaded again under the
   * same name (its report has the same name): what is there now is the last write, and its
   * retention clock starts then (and the tombstone names the file that wrote it).
   */
  async latestOutput(accountId: string, path: string): Promise<RecordedOutput | undefined> {
    const r = this.latestOutputAt.get(path, accountId) as { file_id: string | null; account_id: string; kind: 'receipt' | 'report'; path: string; created_at: number } | undefined;
    return r && { fileId: r.file_id, accountId: r.account_id, kind: r.kind, path: r.path, createdAt: r.created_at };
  }

  /** Journal rows of an account not yet deleted (for purges). */
  async undeletedFiles(accountId: string): Promise<Array<{ fileId: string; location: string; name: string; size: number; sha256: string }>> {
    return (this.db.prepare(`SELECT id, location, name, size, sha256 FROM files WHERE account_id = ? AND state <> 'deleted'`)
      .all(accountId) as Array<{ id: string; location: string; name: string; size: number; sha256: string }>)
      .map((r) => ({ fileId: r.id, location: r.location, name: r.name, size: r.size, sha256: r.sha256 }));
  }

  async seen(accountId: string): Promise<Map<string, SeenFile>> {
    const rows = this.seenOf.all(accountId) as Array<{ path: string; account_id: string; inode: string; first_seen_at: number }>;
    return new Map(rows.map((r) => [r.path, { path: r.path, accountId: r.account_id, inode: r.inode, firstSeenAt: r.first_seen_at }]));
  }

  /**
   * Replaces the account's registry with what a scan saw, in one transaction: new files are
   * added, files that are gone (retrieved, deleted) are forgotten.
   */
  async replaceSeen(accountId: string, files: SeenFile[], now = Date.now()): Promise<void> {
    this.db.transaction(() => {
      this.forgetSeen.run(accountId);
      for (const f of files) this.insertSeen.run(f.path, accountId, f.inode, f.firstSeenAt, now);
    }).immediate();
  }

  async forgetAccount(accountId: string): Promise<void> {
    this.forgetSeen.run(accountId);
  }
}
