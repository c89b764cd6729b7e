import { randomUUID } from 'node:crypto';
import type { Database } from './database';

export type FileState = 'received' | 'processing' | 'processed' | 'rejected' | 'failed' | 'dead' | 'deleted';
export const FILE_STATES: readonly FileState[] = ['received', 'processing', 'processed', 'rejected', 'failed', 'dead', 'deleted'];
/** States in which the engine still owns the file (it sits in the account tree or is being worked on). */
export const LIVE_STATES: readonly FileState[] = ['received', 'processing', 'failed'];

export interface NamingParts {
  dest: string; partner: string; client: string; flux: string;
  app?: string; version?: string; timestamp: string; ext: string; encrypted: boolean;
}

/** What the handler/steps concluded, kept as JSON in files.outcome. */
export interface OutcomeSummary {
  result: 'processed' | 'rejected' | 'failed' | 'dead';
  code?: string;
  summary?: string;
  counts?: { created: number; updated: number; unchanged: number; rejected: number };
  messages?: number;
}

export interface JournalFile {
  id: string;
  accountId: string;
  profile: 'exchange' | 'dropbox' | null;
  flux: string | null;
  workflow: string | null;
  /** Account-relative path it was uploaded to (`in/sal/x.csv`). */
  originalPath: string;
  name: string;
  size: number;
  sha1: string;
  sha256: string;
  receivedAt: number;
  state: FileState;
  attempts: number;
  outcome: OutcomeSummary | null;
  /** Where the file is now (absolute path). */
  location: string;
  reportPath: string | null;
  receiptPath: string | null;
  receiptWrittenAt: number | null;
  reportWrittenAt: number | null;
  naming: NamingParts | null;
  processedAt: number | null;
  updatedAt: number;
}

export interface FileEvent {
  id: number;
  fileId: string;
  at: number;
  type: string;
  detail: Record<string, unknown>;
}

export interface NewJournalFile {
  accountId: string;
  profile: 'exchange' | 'dropbox';
  flux: string | null;
  workflow: string | null;
  originalPath: string;
  name: string;
  size: number;
  sha1: string;
  sha256: string;
  location: string;
  receivedAt?: number;
}

interface FileRow {
  id: string; account_id: string; profile: 'exchange' | 'dropbox' | null; flux: string | null; workflow: string | null;
  original_path: string; name: string; size: number; sha1: string; sha256: string; received_at: number;
  state: FileState; attempts: number; outcome: string | null; location: string; report_path: string | null;
  receipt_path: string | null; receipt_written_at: number | null; report_written_at: number | null;
  naming: string | null; processed_at: number | null; updated_at: number;
}

const toFile = (r: FileRow): JournalFile => ({
  id: r.id, accountId: r.account_id, profile: r.profile, flux: r.flux, workflow: r.workflow,
  originalPath: r.original_path, name: r.name, size: r.size, sha1: r.sha1, sha256: r.sha256,
  receivedAt: r.received_at, state: r.state, attempts: r.attempts,
  outcome: r.outcome ? (JSON.parse(r.outcome) as OutcomeSummary) : null,
  location: r.location, reportPath: r.report_path, receiptPath: r.receipt_path,
  receiptWrittenAt: r.receipt_written_at, reportWrittenAt: r.report_written_at,
  naming: r.naming ? (JSON.parse(r.naming) as NamingParts) : null,
  processedAt: r.processed_at, updatedAt: r.updated_at,
});

export interface JournalFilter {
  accountId?: string;
  state?: FileState;
  limit?: number;
}

/** The file journal: one row per received file, and its timeline. */
export class JournalRepository {
  constructor(private readonly db: Database) {}

  /** Inserts a received file; returns undefined when a live entry already holds that location. */
  insert(f: NewJournalFile, at = f.receivedAt ?? Date.now()): JournalFile | undefined {
    const id = newFileId(at);
    const r = this.db.prepare(`INSERT INTO files (id, account_id, profile, flux, workflow, original_path, name, size,
        sha1, sha256, received_at, state, location, updated_at)
      SELECT @id, @accountId, @profile, @flux, @workflow, @originalPath, @name, @size, @sha1, @sha256, @at,
        'received', @location, @at
      WHERE NOT EXISTS (SELECT 1 FROM files WHERE location = @location AND state IN ('received', 'processing', 'failed'))`)
      .run({ ...f, id, at });
    if (r.changes === 0) return undefined;
    this.addEvent(id, 'received', { path: f.originalPath, size: f.size, sha256: f.sha256 }, at);
    return this.get(id);
  }

  get(id: string): JournalFile | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE id = ?').get(id) as FileRow | undefined;
    return row && toFile(row);
  }

  /** The live entry (engine still owns it) at this absolute location, if any. */
  liveAt(location: string): JournalFile | undefined {
    const row = this.db.prepare(`SELECT * FROM files WHERE location = ? AND state IN ('received', 'processing', 'failed')`)
      .get(location) as FileRow | undefined;
    return row && toFile(row);
  }

  list(filter: JournalFilter = {}): JournalFile[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit ?? -1 };
    if (filter.accountId) { where.push('account_id = @accountId'); params.accountId = filter.accountId; }
    if (filter.state) { where.push('state = @state'); params.state = filter.state; }
    const sql = `SELECT * FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at, id LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as FileRow[]).map(toFile);
  }

  /** Files whose location is still inside an account tree and the engine still owns (for start-up recovery). */
  live(): JournalFile[] {
    return (this.db.prepare(`SELECT * FROM files WHERE state IN ('received', 'processing', 'failed') ORDER BY received_at`)
      .all() as FileRow[]).map(toFile);
  }

  /**
   * At start-up (single node: no attempt can be running yet), files still `processing` had their
   * attempt cut short by a stop or a crash of the server. Each gets an `interrupted` event (the
   * attempt, when it began) and the state `failed` (an attempt failed, the file runs again: its
   * queue job is released with the leases), so a second start before it runs again records
   * nothing twice. Returns those files as they were.
   */
  markInterrupted(at = Date.now()): JournalFile[] {
    return this.transaction(() => {
      const files = (this.db.prepare(`SELECT * FROM files WHERE state = 'processing' ORDER BY received_at, id`).all() as FileRow[]).map(toFile);
      const began = this.db.prepare(`SELECT at FROM file_events WHERE file_id = ? AND type = 'attempt' ORDER BY id DESC LIMIT 1`).pluck();
      for (const f of files) {
        const startedAt = began.get(f.id) as number | undefined;
        this.addEvent(f.id, 'interrupted', {
          attempt: f.attempts, ...(startedAt === undefined ? {} : { attemptStartedAt: new Date(startedAt).toISOString() }),
          reason: 'the server stopped or crashed during this attempt; the file runs again',
        }, at);
        this.update(f.id, { state: 'failed' }, at);
      }
      return files;
    });
  }

  events(fileId: string): FileEvent[] {
    return (this.db.prepare('SELECT * FROM file_events WHERE file_id = ? ORDER BY id').all(fileId) as Array<{
      id: number; file_id: string; at: number; type: string; detail: string;
    }>).map((e) => ({ id: e.id, fileId: e.file_id, at: e.at, type: e.type, detail: JSON.parse(e.detail) as Record<string, unknown> }));
  }

  addEvent(fileId: string, type: string, detail: Record<string, unknown> = {}, at = Date.now()): void {
    this.db.prepare('INSERT INTO file_events (file_id, at, type, detail) VALUES (?, ?, ?, ?)')
      .run(fileId, at, type, JSON.stringify(detail));
  }

  update(id: string, patch: Partial<{
    state: FileState; attempts: number; outcome: OutcomeSummary | null; location: string; flux: string | null;
    workflow: string | null; reportPath: string | null; receiptPath: string | null; receiptWrittenAt: number | null;
    reportWrittenAt: number | null; naming: NamingParts | null; processedAt: number | null;
  }>, at = Date.now()): void {
    const columns: Record<string, [string, (v: never) => unknown]> = {
      state: ['state', (v) => v], attempts: ['attempts', (v) => v],
      outcome: ['outcome', (v) => (v === null ? null : JSON.stringify(v))], location: ['location', (v) => v],
      flux: ['flux', (v) => v], workflow: ['workflow', (v) => v], reportPath: ['report_path', (v) => v],
      receiptPath: ['receipt_path', (v) => v], receiptWrittenAt: ['receipt_written_at', (v) => v],
      reportWrittenAt: ['report_written_at', (v) => v],
      naming: ['naming', (v) => (v === null ? null : JSON.stringify(v))], processedAt: ['processed_at', (v) => v],
    };
    const sets = ['updated_at = @updatedAt'];
    const values: Record<string, unknown> = { id, updatedAt: at };
    for (const [key, value] of Object.entries(patch)) {
      const [col, conv] = columns[key];
      sets.push(`${col} = @${key}`);
      values[key] = conv(value as never);
    }
    this.db.prepare(`UPDATE files SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  /** True when another file's receipt already uses this path (receipt names must be unique). */
  receiptPathTaken(path: string, exceptFileId: string): boolean {
    return this.db.prepare('SELECT 1 FROM files WHERE receipt_path = ? AND id <> ?').get(path, exceptFileId) !== undefined;
  }

  /**
   * The file whose output was last written at this path (outputs table), or undefined. Scans
   * from the newest row: the retry or replay that asks usually wrote it recently.
   */
  outputOwner(path: string): string | null | undefined {
    const row = this.db.prepare('SELECT file_id FROM outputs WHERE path = ? ORDER BY id DESC LIMIT 1').get(path) as { file_id: string | null } | undefined;
    return row ? row.file_id : undefined;
  }

  recordOutput(fileId: string, accountId: string, kind: 'receipt' | 'report', path: string, at = Date.now()): void {
    this.db.prepare('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(fileId, accountId, kind, path, at);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/** Sortable, readable ids: `f_<yyyymmddhhmmss>_<8 hex>`. */
export function newFileId(at = Date.now()): string {
  const stamp = new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `f_${stamp}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}
