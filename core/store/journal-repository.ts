import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { FluxgateError } from '../errors';
import type { Database } from './database';
import { SqliteAccountRows, type Account } from './accounts-repository';
import { SqliteEventOutbox } from './event-outbox';
import { QueueRepository, type NewJob } from './queue-repository';
import type { NewEvent } from './event-types';
import { JournalReader } from './journal-reader';
import {
  PATCH_COLUMNS, toFile, type EventInput, type FilePatch, type FileRow, type FileState,
  type JournalFile, type NewJournalFile, type OutcomeSummary,
} from './journal-types';

export * from './journal-types';
export type { JournalQuery } from './journal-query';
export { DEFAULT_PAGE, MAX_PAGE } from './journal-query';

export type { JournalPage } from './journal-reader';

const LIVE = `('received', 'processing', 'failed')`;

/**
 * The file journal: one row per received file, and its timeline. It owns a file's lifecycle:
 * each transition writes the new state and its timeline event in one transaction and returns
 * the row as it now is (UPDATE … RETURNING), so callers never read the row back. Statements are
 * prepared once, when the repository is made (an UPDATE per set of columns, on first use).
 */
export class JournalRepository extends JournalReader {
  private readonly insertFile: Statement;
  private readonly liveAtLocation: Statement;
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

  constructor(db: Database) {
    super(db);
    this.outbox = new SqliteEventOutbox(db);
    this.insertFile = db.prepare(`INSERT INTO files (id, account_id, profile, flux, workflow, original_path, name, size,
        sha1, sha256, received_at, state, location, updated_at, client_address, client_fingerprint)
      SELECT @id, @accountId, @profile, @flux, @workflow, @originalPath, @name, @size, @sha1, @sha256, @at,
        'received', @location, @at, @clientAddress, @clientFingerprint
      WHERE NOT EXISTS (SELECT 1 FROM files WHERE location = @location AND state IN ${LIVE})
      RETURNING *`);
    this.liveAtLocation = db.prepare(`SELECT * FROM files WHERE location = ? AND state IN ${LIVE}`);
    this.liveFiles = db.prepare(`SELECT * FROM files WHERE state IN ${LIVE} ORDER BY received_at, id`);
    this.processingFiles = db.prepare(`SELECT * FROM files WHERE state = 'processing' ORDER BY received_at, id`);
    this.lastAttemptAt = db.prepare(`SELECT at FROM file_events WHERE file_id = ? AND type = 'attempt' ORDER BY id DESC LIMIT 1`).pluck();
    this.insertEvent = db.prepare('INSERT INTO file_events (file_id, at, type, detail) VALUES (?, ?, ?, ?)');
    this.receiptTaken = db.prepare('SELECT 1 FROM files WHERE receipt_path = ? AND id <> ?');
    this.insertOutput = db.prepare('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)');
    this.outputOwnerAt = db.prepare('SELECT file_id FROM outputs WHERE path = ? ORDER BY id DESC LIMIT 1');
  }

  /**
   * Journals a received file (state `received`, event `received`), in one transaction; returns
   * the row, or undefined when a live entry already holds that location.
   */
  insert(f: NewJournalFile, at = f.receivedAt ?? Date.now()): JournalFile | undefined {
    return this.transaction(() => {
      const { client, ...columns } = f;
      const row = this.insertFile.get({ ...columns, id: newFileId(at), at, clientAddress: client?.address ?? null, clientFingerprint: client?.fingerprint ?? null }) as FileRow | undefined;
      if (!row) return undefined;
      this.addEvent(row.id, 'received', { path: f.originalPath, size: f.size, sha256: f.sha256 }, at);
      const file = toFile(row);
      this.outbox.record(fileEvent(file, 'file.received', at));
      return file;
    });
  }

  /** The live entry (engine still owns it) at this absolute location, if any. */
  liveAt(location: string): JournalFile | undefined {
    const row = this.liveAtLocation.get(location) as FileRow | undefined;
    return row && toFile(row);
  }

  /** Files whose location is still inside an account tree and the engine still owns (for start-up recovery). */
  live(): JournalFile[] {
    return (this.liveFiles.all() as FileRow[]).map(toFile);
  }

  /** An entry of the file's timeline that changes nothing else (a step's duration, a forward…). */
  addEvent(fileId: string, type: string, detail: Record<string, unknown> = {}, at = Date.now()): void {
    this.insertEvent.run(fileId, at, type, JSON.stringify(detail));
  }

  /**
   * Sets columns of the row and, when given, adds the event that records why, in one
   * transaction; returns the row as it now is (undefined: no such file).
   */
  change(id: string, patch: FilePatch, event?: EventInput, at = Date.now()): JournalFile | undefined {
    if (!event) return this.update(id, patch, at);
    return this.transaction(() => {
      const file = this.update(id, patch, at);
      if (file) this.addEvent(id, event.type, event.detail ?? {}, at);
      return file;
    });
  }

  /** Sets columns of the row; returns it as it now is (undefined: no such file). */
  update(id: string, patch: FilePatch, at = Date.now()): JournalFile | undefined {
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

  // -- the lifecycle: each transition is one transaction (state + event) and returns the fresh row --

  /** An attempt begins: `processing`, under this workflow. */
  startAttempt(id: string, attempt: number, of: number, workflow: string): JournalFile {
    return this.must(id, this.change(id, { state: 'processing', attempts: attempt, workflow, flux: workflow },
      { type: 'attempt', detail: { attempt, of, workflow } }));
  }

  /** The attempt failed and another follows after `retryInMs`: `failed`. */
  attemptFailed(id: string, attempt: number, failure: { code: string; error: string; retryInMs: number }): JournalFile {
    return this.must(id, this.change(id, { state: 'failed', outcome: { result: 'failed', code: failure.code, summary: failure.error } },
      { type: 'attempt-failed', detail: { attempt, ...failure } }));
  }

  /** The file's processing ended: processed, rejected or dead, with its outcome. */
  finish(id: string, state: 'processed' | 'rejected' | 'dead', outcome: OutcomeSummary, at = Date.now()): JournalFile {
    return this.transaction(() => {
      const file = this.must(id, this.change(id, { state, outcome, processedAt: at }, { type: state, detail: { ...outcome } }, at));
      this.outbox.record(fileEvent(file, `file.${state}`, at));
      return file;
    });
  }

  /** The attempt stopped for a reason not the file's own (no disk space): back to `received`. */
  pause(id: string, detail: Record<string, unknown>): JournalFile {
    return this.must(id, this.change(id, { state: 'received' }, { type: 'paused', detail }));
  }

  /** The input now lives at `location` (`archived`, `quarantined`, `location-repaired`…). */
  moved(id: string, location: string, eventType: string, detail: Record<string, unknown>): JournalFile {
    return this.must(id, this.change(id, { location }, { type: eventType, detail }));
  }

  /** A finished file is to run again from the start (`fluxgate replay`). */
  replay(id: string, from: FileState, location: string): JournalFile {
    return this.must(id, this.change(id, { state: 'received', attempts: 0, outcome: null, processedAt: null },
      { type: 'replay', detail: { from, location } }));
  }

  /**
   * Unit of work of intake: the upload's row and, atomically, either its queue job (`jobOf`) or
   * its refusal (`refusalOf`, given the account as it is now: a file arriving once `account
   * disable` has returned is refused). Undefined when the row exists already. The callbacks
   * compute, they do no I/O.
   */
  recordUpload(
    upload: NewJournalFile,
    jobOf: (file: JournalFile) => NewJob,
    refusalOf: (account: Account | undefined, file: JournalFile) => OutcomeSummary | undefined,
  ): { file: JournalFile; refusal?: OutcomeSummary } | undefined {
    return this.transaction(() => {
      const inserted = this.insert(upload);
      if (!inserted) return undefined;
      const refusal = refusalOf(new SqliteAccountRows(this.db).get(inserted.accountId), inserted);
      if (refusal) return { file: this.must(inserted.id, this.update(inserted.id, { state: 'rejected', outcome: refusal, processedAt: Date.now() })), refusal };
      new QueueRepository(this.db).insert(jobOf(inserted));
      return { file: inserted };
    });
  }

  /** Unit of work of `fluxgate replay`: the row back to `received` with its `replay` event, and its queue job, atomically. */
  replayWithJob(id: string, from: FileState, location: string, job: NewJob): JournalFile {
    return this.transaction(() => {
      const file = this.replay(id, from, location);
      new QueueRepository(this.db).insert(job);
      return file;
    });
  }

  /**
   * Retention deleted a file of this row (its input, or one of its outputs): an event on its
   * timeline, and the state `deleted` when the input itself went.
   */
  recordDeletion(id: string, path: string, detail: Record<string, unknown>, at = Date.now()): void {
    this.transaction(() => {
      const file = this.get(id);
      if (!file) return;
      if (file.location === path && file.state !== 'deleted') this.update(id, { state: 'deleted' }, at);
      this.addEvent(id, 'deleted', { path, ...detail }, at);
    });
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
      const files = (this.processingFiles.all() as FileRow[]).map(toFile);
      for (const f of files) {
        const startedAt = this.lastAttemptAt.get(f.id) as number | undefined;
        this.change(f.id, { state: 'failed' }, {
          type: 'interrupted',
          detail: {
            attempt: f.attempts, ...(startedAt === undefined ? {} : { attemptStartedAt: new Date(startedAt).toISOString() }),
            reason: 'the server stopped or crashed during this attempt; the file runs again',
          },
        }, at);
      }
      return files;
    });
  }

  /** True when another file's receipt already uses this path (receipt names must be unique). */
  receiptPathTaken(path: string, exceptFileId: string): boolean {
    return this.receiptTaken.get(path, exceptFileId) !== undefined;
  }

  /**
   * The file whose output was last written at this path (outputs table), or undefined. Scans
   * from the newest row: the retry or replay that asks usually wrote it recently.
   */
  outputOwner(path: string): string | null | undefined {
    const row = this.outputOwnerAt.get(path) as { file_id: string | null } | undefined;
    return row ? row.file_id : undefined;
  }

  recordOutput(fileId: string, accountId: string, kind: 'receipt' | 'report', path: string, at = Date.now()): void {
    this.insertOutput.run(fileId, accountId, kind, path, at);
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
export function newFileId(at = Date.now()): string {
  const stamp = new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `f_${stamp}_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
}
