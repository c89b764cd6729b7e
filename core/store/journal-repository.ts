import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { FluxgateError } from '../errors';
import type { Database } from './database';
import { SqliteAccountRows, type Account } from './accounts-repository';
import { SqliteEventOutbox } from './event-outbox';
import type { JournalQuery } from './journal-query';
import { JournalReads } from './journal-reader';
import type { NewEvent } from './event-types';
import type { HeldLease, JournalPage, JournalRepository } from './ports/journal';
import { FILE_PROCESS_TOPIC, type LeaseRef, type NewJob } from './ports/queue';
import { SqliteQueueRepository } from './queue-repository';
import {
  PATCH_COLUMNS, toFile, type EventInput, type FileEvent, type FilePatch, type FileRow, type FileState,
  type JournalFile, type NewJournalFile, type OutcomeSummary,
} from './journal-types';

export * from './journal-types';
export type { JournalQuery } from './journal-query';
export { DEFAULT_PAGE, MAX_PAGE } from './journal-query';
export type { HeldLease, JournalPage, JournalReader, JournalRepository } from './ports/journal';

const LIVE = `('received', 'processing', 'failed')`;

/**
 * The file journal on SQLite: one row per received file, and its timeline. Each transition
 * writes the new state and its timeline event in one transaction and returns the row as it now
 * is (UPDATE … RETURNING), so callers never read the row back. Statements are prepared once,
 * when the repository is made (an UPDATE per set of columns, on first use). The async methods
 * are the port; the synchronous ones (`…Now`, recordDeletion) serve the units of work of
 * core/store that write the journal inside their own transaction.
 */
export class SqliteJournalRepository implements JournalRepository {
  private readonly reads: JournalReads;
  private readonly insertFile: Statement;
  private readonly liveAtLocation: Statement;
  private readonly uploadAt: Statement;
  private readonly liveFiles: Statement;
  private readonly processingFiles: Statement;
  private readonly lastAttemptAt: Statement;
  private readonly insertEvent: Statement;
  private readonly receiptTaken: Statement;
  private readonly insertOutput: Statement;
  private readonly outputOwnerAt: Statement;
  private readonly updates = new Map<string, Statement>();
  /** Events (issue #22) of received and finished files, written in the transition's transaction. */
  private readonly outbox: SqliteEventOutbox;
  private readonly queue: SqliteQueueRepository;
  private readonly accounts: SqliteAccountRows;

  constructor(private readonly db: Database) {
    this.reads = new JournalReads(db);
    this.outbox = new SqliteEventOutbox(db);
    this.queue = new SqliteQueueRepository(db);
    this.accounts = new SqliteAccountRows(db);
    // ON CONFLICT DO NOTHING: the upload's identity already has a row (migration 020), whatever its state.
    this.insertFile = db.prepare(`INSERT INTO files (id, account_id, profile, flux, workflow, original_path, name, size,
        sha1, sha256, received_at, state, location, updated_at, client_address, client_fingerprint, upload_identity)
      SELECT @id, @accountId, @profile, @flux, @workflow, @originalPath, @name, @size, @sha1, @sha256, @at,
        'received', @location, @at, @clientAddress, @clientFingerprint, @identity
      WHERE NOT EXISTS (SELECT 1 FROM files WHERE location = @location AND state IN ${LIVE})
      ON CONFLICT DO NOTHING
      RETURNING *`);
    this.liveAtLocation = db.prepare(`SELECT * FROM files WHERE location = ? AND state IN ${LIVE}`);
    this.uploadAt = db.prepare('SELECT * FROM files WHERE account_id = ? AND original_path = ? AND upload_identity = ?');
    this.liveFiles = db.prepare(`SELECT * FROM files WHERE state IN ${LIVE} ORDER BY received_at, id`);
    this.processingFiles = db.prepare(`SELECT * FROM files WHERE state = 'processing' ORDER BY received_at, id`);
    this.lastAttemptAt = db.prepare(`SELECT at FROM file_events WHERE file_id = ? AND type = 'attempt' ORDER BY id DESC LIMIT 1`).pluck();
    this.insertEvent = db.prepare('INSERT INTO file_events (file_id, at, type, detail) VALUES (?, ?, ?, ?)');
    this.receiptTaken = db.prepare('SELECT 1 FROM files WHERE receipt_path = ? AND id <> ?');
    this.insertOutput = db.prepare('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)');
    this.outputOwnerAt = db.prepare('SELECT file_id FROM outputs WHERE path = ? ORDER BY id DESC LIMIT 1');
  }

  // -- reads --

  async get(id: string): Promise<JournalFile | undefined> {
    return this.reads.get(id);
  }

  async list(query: JournalQuery = {}): Promise<JournalPage> {
    return this.reads.list(query);
  }

  async events(fileId: string): Promise<FileEvent[]> {
    return this.reads.events(fileId);
  }

  async liveAt(location: string): Promise<JournalFile | undefined> {
    const row = this.liveAtLocation.get(location) as FileRow | undefined;
    return row && toFile(row);
  }

  async uploadEntry(accountId: string, originalPath: string, identity: string): Promise<JournalFile | undefined> {
    const row = this.uploadAt.get(accountId, originalPath, identity) as FileRow | undefined;
    return row && toFile(row);
  }

  async live(): Promise<JournalFile[]> {
    return (this.liveFiles.all() as FileRow[]).map(toFile);
  }

  async receiptPathTaken(path: string, exceptFileId: string): Promise<boolean> {
    return this.receiptTaken.get(path, exceptFileId) !== undefined;
  }

  /** Scans from the newest row: the retry or replay that asks usually wrote it recently. */
  async outputOwner(path: string): Promise<string | null | undefined> {
    const row = this.outputOwnerAt.get(path) as { file_id: string | null } | undefined;
    return row ? row.file_id : undefined;
  }

  // -- writes --

  async insert(f: NewJournalFile, at = f.receivedAt ?? Date.now()): Promise<JournalFile | undefined> {
    return this.insertNow(f, at);
  }

  async addEvent(fileId: string, type: string, detail: Record<string, unknown> = {}, at = Date.now()): Promise<void> {
    this.addEventNow(fileId, type, detail, at);
  }

  async change(id: string, patch: FilePatch, event?: EventInput, at = Date.now()): Promise<JournalFile | undefined> {
    return this.changeNow(id, patch, event, at);
  }

  async update(id: string, patch: FilePatch, at = Date.now()): Promise<JournalFile | undefined> {
    return this.updateNow(id, patch, at);
  }

  async recordOutput(fileId: string, accountId: string, kind: 'receipt' | 'report', path: string, at = Date.now()): Promise<void> {
    this.insertOutput.run(fileId, accountId, kind, path, at);
  }

  // -- the lifecycle: each transition is one transaction (state + event) and returns the fresh row --

  async startAttempt(id: string, attempt: number, of: number, workflow: string, held: HeldLease = {}): Promise<JournalFile> {
    return this.transaction(() => {
      this.mustHold(held.lease);
      const before = this.reads.get(id);
      if (before?.state === 'processing' && before.attempts < attempt) this.addEventNow(id, 'interrupted', takenOver(before.attempts));
      return this.must(id, this.changeNow(id, { state: 'processing', attempts: attempt, workflow, flux: workflow },
        { type: 'attempt', detail: { attempt, of, workflow } }));
    });
  }

  async attemptFailed(id: string, attempt: number, failure: { code: string; error: string; retryInMs: number }): Promise<JournalFile> {
    return this.must(id, this.changeNow(id, { state: 'failed', outcome: { result: 'failed', code: failure.code, summary: failure.error } },
      { type: 'attempt-failed', detail: { attempt, ...failure } }));
  }

  async finish(id: string, state: 'processed' | 'rejected' | 'dead', outcome: OutcomeSummary, options: HeldLease & { at?: number } = {}): Promise<JournalFile> {
    const at = options.at ?? Date.now();
    return this.transaction(() => {
      this.mustHold(options.lease);
      const file = this.must(id, this.changeNow(id, { state, outcome, processedAt: at }, { type: state, detail: { ...outcome } }, at));
      this.outbox.record(fileEvent(file, `file.${state}`, at));
      return file;
    });
  }

  async pause(id: string, detail: Record<string, unknown>): Promise<JournalFile> {
    return this.must(id, this.changeNow(id, { state: 'received' }, { type: 'paused', detail }));
  }

  async moved(id: string, location: string, eventType: string, detail: Record<string, unknown>): Promise<JournalFile> {
    return this.must(id, this.changeNow(id, { location }, { type: eventType, detail }));
  }

  async recordUpload(
    upload: NewJournalFile,
    jobOf: (file: JournalFile) => NewJob,
    refusalOf: (account: Account | undefined, file: JournalFile) => OutcomeSummary | undefined,
  ): Promise<{ file: JournalFile; refusal?: OutcomeSummary } | undefined> {
    return this.transaction(() => {
      const inserted = this.insertNow(upload);
      if (!inserted) return undefined;
      const refusal = refusalOf(this.accounts.get(inserted.accountId), inserted);
      if (refusal) return { file: this.must(inserted.id, this.updateNow(inserted.id, { state: 'rejected', outcome: refusal, processedAt: Date.now() })), refusal };
      this.queue.insertNow(jobOf(inserted));
      return { file: inserted };
    });
  }

  async replayWithJob(id: string, from: FileState, location: string, job: NewJob): Promise<JournalFile> {
    return this.transaction(() => {
      const file = this.must(id, this.changeNow(id, { state: 'received', attempts: 0, outcome: null, processedAt: null },
        { type: 'replay', detail: { from, location } }));
      this.queue.insertNow(job);
      return file;
    });
  }

  /**
   * At start-up (single node: no attempt can be running yet), files still `processing` had their
   * attempt cut short by a stop or a crash of the server. Each gets an `interrupted` event (the
   * attempt, when it began) and the state `failed` (an attempt failed, the file runs again: its
   * queue job is released with the leases), so a second start before it runs again records
   * nothing twice. Returns those files as they were.
   */
  async markInterrupted(at = Date.now()): Promise<JournalFile[]> {
    return this.transaction(() => {
      const files = (this.processingFiles.all() as FileRow[]).map(toFile);
      for (const f of files) this.interruptNow(f, at);
      return files;
    });
  }

  async releaseDeadHolders(at = Date.now()): Promise<{ released: number; interrupted: JournalFile[] }> {
    return this.transaction(() => {
      const released = this.queue.releaseDeadHoldersNow(at);
      const interrupted: JournalFile[] = [];
      for (const job of released) {
        if (job.topic !== FILE_PROCESS_TOPIC || job.fileId === null) continue;
        const file = this.reads.get(job.fileId);
        if (file?.state !== 'processing') continue;
        this.interruptNow(file, at);
        interrupted.push(file);
      }
      return { released: released.length, interrupted };
    });
  }

  /** The file's attempt was cut short by a stop or crash: its `interrupted` event, and `failed` (it runs again). */
  private interruptNow(f: JournalFile, at: number): void {
    const startedAt = this.lastAttemptAt.get(f.id) as number | undefined;
    this.changeNow(f.id, { state: 'failed' }, {
      type: 'interrupted',
      detail: {
        attempt: f.attempts, ...(startedAt === undefined ? {} : { attemptStartedAt: new Date(startedAt).toISOString() }),
        reason: 'the server stopped or crashed during this attempt; the file runs again',
      },
    }, at);
  }

  /**
   * Retention deleted a file of this row (its input, or one of its outputs): an event on its
   * timeline, and the state `deleted` when the input itself went. Synchronous: part of
   * TombstoneRepository.confirm's unit of work.
   */
  recordDeletion(id: string, path: string, detail: Record<string, unknown>, at = Date.now()): void {
    this.transaction(() => {
      const file = this.reads.get(id);
      if (!file) return;
      if (file.location === path && file.state !== 'deleted') this.updateNow(id, { state: 'deleted' }, at);
      this.addEventNow(id, 'deleted', { path, ...detail }, at);
    });
  }

  // -- synchronous steps of the units of work --

  private insertNow(f: NewJournalFile, at = f.receivedAt ?? Date.now()): JournalFile | undefined {
    return this.transaction(() => {
      const { client, identity, ...columns } = f;
      const row = this.insertFile.get({
        ...columns, id: newFileId(at), at, clientAddress: client?.address ?? null, clientFingerprint: client?.fingerprint ?? null, identity: identity ?? null,
      }) as FileRow | undefined;
      if (!row) return undefined;
      this.addEventNow(row.id, 'received', { path: f.originalPath, size: f.size, sha256: f.sha256 }, at);
      const file = toFile(row);
      this.outbox.record(fileEvent(file, 'file.received', at));
      return file;
    });
  }

  private addEventNow(fileId: string, type: string, detail: Record<string, unknown> = {}, at = Date.now()): void {
    this.insertEvent.run(fileId, at, type, JSON.stringify(detail));
  }

  private changeNow(id: string, patch: FilePatch, event?: EventInput, at = Date.now()): JournalFile | undefined {
    if (!event) return this.updateNow(id, patch, at);
    return this.transaction(() => {
      const file = this.updateNow(id, patch, at);
      if (file) this.addEventNow(id, event.type, event.detail ?? {}, at);
      return file;
    });
  }

  private updateNow(id: string, patch: FilePatch, at = Date.now()): JournalFile | undefined {
    const keys = (Object.keys(patch) as Array<keyof FilePatch>).filter((k) => patch[k] !== undefined).sort();
    const cacheKey = keys.join(',');
    let statement = this.updates.get(cacheKey);
    if (!statement) {
      const sets = ['updated_at = @updatedAt', ...keys.map((k) => `${PATCH_COLUMNS[k].column} = @${k}`)];
      this.updates.set(cacheKey, statement = this.db.prepare(`UPDATE files SET ${sets.join(', ')} WHERE id = @id RETURNING *`));
    }
    const values: Record<string, unknown> = { id, updatedAt: at };
    for (const k of keys) values[k] = PATCH_COLUMNS[k].json && patch[k] !== null ? JSON.stringify(patch[k]) : patch[k];
    const row = statement.get(values) as FileRow | undefined;
    return row && toFile(row);
  }

  /** A final transition under a lease is refused once the lease was taken over (exactly-once). */
  private mustHold(lease: LeaseRef | undefined): void {
    if (lease) this.queue.mustHold(lease);
  }

  /** Runs fn in a transaction (a savepoint inside the caller's, when one is open). */
  private transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private must(id: string, file: JournalFile | undefined): JournalFile {
    if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `file ${id} is not in the journal: it was removed (with its account?) while in use`);
    return file;
  }
}

/** The outbox event of a file's arrival or end (docs/events.md). */
export function fileEvent(f: JournalFile, type: 'file.received' | 'file.processed' | 'file.rejected' | 'file.dead', at: number): NewEvent {
  const o = f.outcome;
  const summary = type === 'file.received' ? `${f.name} received (${f.size} bytes)` : (o?.summary ?? `${f.name} ${type.slice(5)}`);
  return {
    type, at, account: f.accountId, fileId: f.id, flux: f.flux, name: f.name, code: o?.code ?? null, summary,
    data: {
      path: f.originalPath, size: f.size, sha256: f.sha256, state: f.state,
      // Like report: absent when there is none (a file found in the tree has no SFTP client).
      ...(f.client ? { clientAddress: f.client.address } : {}),
      ...(o?.counts ? { counts: o.counts } : {}), ...(f.reportPath ? { report: f.reportPath } : {}),
    },
  };
}

/** Sortable, readable ids: `f_<yyyymmddhhmmss>_<8 hex>`. */
/**
 * A new attempt finds the file still `processing` under an older one: that attempt's holder
 * died or stalled and its lease ran out (a node of a cluster). Its timeline says so.
 */
export function takenOver(attempt: number): Record<string, unknown> {
  return { attempt, reason: 'the lease of this attempt ran out (its node died or stalled); another attempt took the file over' };
}

export function newFileId(at = Date.now()): string {
  const stamp = new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `f_${stamp}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}
