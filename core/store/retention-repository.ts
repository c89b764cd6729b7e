import type { Database } from './database';

/** A journal row retention may act on: its input file, where it is now, and the times that count. */
export interface RetainedInput {
  fileId: string;
  accountId: string;
  name: string;
  state: 'processed' | 'rejected' | 'dead';
  location: string;
  size: number;
  sha256: string;
  receivedAt: number;
  processedAt: number | null;
}

/** A report or receipt the engine wrote into out/ (engine's `outputs` table). */
export interface RecordedOutput {
  fileId: string | null;
  accountId: string;
  kind: 'receipt' | 'report';
  path: string;
  createdAt: number;
}

export interface SeenFile {
  path: string;
  accountId: string;
  inode: string;
  firstSeenAt: number;
}

/**
 * What retention reads from the journal, and the first-seen registry of files the journal
 * does not know (unmatched inputs, partial uploads, other files in out/): their age is counted
 * from when fluxgate first saw them (or their ctime, if earlier), never from a client-settable mtime.
 */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inputs the engine is done with: processed (archived), rejected or dead (quarantined, or
   * left where they were). `failed` rows are still the engine's (it retries them).
   */
  finishedInputs(cutoffs: { processedBefore: number; receivedBefore: number }): RetainedInput[] {
    // Only rows old enough for some rule: the journal grows forever, the daily run should not.
    return (this.db.prepare(`SELECT id, account_id, name, state, location, size, sha256, received_at, processed_at
      FROM files WHERE (state = 'processed' AND COALESCE(processed_at, received_at) <= @processedBefore)
        OR (state IN ('rejected', 'dead') AND received_at <= @receivedBefore)
      ORDER BY received_at, id`).all(cutoffs) as Array<{
      id: string; account_id: string; name: string; state: RetainedInput['state']; location: string; size: number;
      sha256: string; received_at: number; processed_at: number | null;
    }>).map((r) => ({
      fileId: r.id, accountId: r.account_id, name: r.name, state: r.state, location: r.location, size: r.size,
      sha256: r.sha256, receivedAt: r.received_at, processedAt: r.processed_at,
    }));
  }

  /** Journal rows (any state but deleted) that sit at these locations, by location. */
  journalAt(accountId: string): Map<string, { fileId: string; state: string; size: number; sha256: string; receivedAt: number }> {
    const rows = this.db.prepare(`SELECT id, location, state, size, sha256, received_at FROM files
      WHERE account_id = ? AND state <> 'deleted'`).all(accountId) as Array<{
      id: string; location: string; state: string; size: number; sha256: string; received_at: number;
    }>;
    return new Map(rows.map((r) => [r.location, { fileId: r.id, state: r.state, size: r.size, sha256: r.sha256, receivedAt: r.received_at }]));
  }

  /**
   * Reports and receipts recorded for an account, by path: the **latest** record of each path.
   * A path is written again by a replay, or by a file uploaded again under the same name (its
   * report has the same name): what is there now is the last write, and its retention clock
   * starts then (and the tombstone names the file that wrote it), never at the first write.
   */
  outputs(accountId: string): Map<string, RecordedOutput> {
    const map = new Map<string, RecordedOutput>();
    if (!this.hasTable('outputs')) return map;
    const rows = this.db.prepare(`SELECT file_id, account_id, kind, path, created_at FROM outputs
      WHERE account_id = ? ORDER BY created_at, id`).all(accountId) as Array<{
      file_id: string | null; account_id: string; kind: 'receipt' | 'report'; path: string; created_at: number;
    }>;
    // Oldest first: a later record of the same path replaces an earlier one.
    for (const r of rows) map.set(r.path, { fileId: r.file_id, accountId: r.account_id, kind: r.kind, path: r.path, createdAt: r.created_at });
    return map;
  }

  /** Journal rows of an account not yet deleted (for purges). */
  undeletedFiles(accountId: string): Array<{ fileId: string; location: string; name: string; size: number; sha256: string }> {
    return (this.db.prepare(`SELECT id, location, name, size, sha256 FROM files WHERE account_id = ? AND state <> 'deleted'`)
      .all(accountId) as Array<{ id: string; location: string; name: string; size: number; sha256: string }>)
      .map((r) => ({ fileId: r.id, location: r.location, name: r.name, size: r.size, sha256: r.sha256 }));
  }

  seen(accountId: string): Map<string, SeenFile> {
    const rows = this.db.prepare('SELECT path, account_id, inode, first_seen_at FROM retention_seen WHERE account_id = ?')
      .all(accountId) as Array<{ path: string; account_id: string; inode: string; first_seen_at: number }>;
    return new Map(rows.map((r) => [r.path, { path: r.path, accountId: r.account_id, inode: r.inode, firstSeenAt: r.first_seen_at }]));
  }

  /**
   * Replaces the account's registry with what a scan saw, in one transaction: new files are
   * added, files that are gone (retrieved, deleted) are forgotten.
   */
  replaceSeen(accountId: string, files: SeenFile[], now = Date.now()): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM retention_seen WHERE account_id = ?').run(accountId);
      const insert = this.db.prepare(`INSERT INTO retention_seen (path, account_id, inode, first_seen_at, last_seen_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET account_id = excluded.account_id, inode = excluded.inode,
        first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at`);
      for (const f of files) insert.run(f.path, accountId, f.inode, f.firstSeenAt, now);
    }).immediate();
  }

  forgetAccount(accountId: string): void {
    this.db.prepare('DELETE FROM retention_seen WHERE account_id = ?').run(accountId);
  }

  private hasTable(name: string): boolean {
    return this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
  }
}
