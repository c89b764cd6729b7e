import { hostname } from 'node:os';
import { FluxgateError } from '../../errors';
import { toAccount, type AccountRow } from '../accounts-repository';
import { fileEvent, newFileId, takenOver } from '../journal-repository';
import type { JournalQuery } from '../journal-query';
import {
  PATCH_COLUMNS, toFile, type EventInput, type FileEvent, type FilePatch, type FileRow, type FileState,
  type JournalFile, type NewJournalFile, type OutcomeSummary,
} from '../journal-types';
import type { Account } from '../ports/accounts';
import type { HeldLease, JournalPage, JournalRepository } from '../ports/journal';
import { FILE_PROCESS_TOPIC, type NewJob } from '../ports/queue';
import { holderIsDeadHere } from '../process-alive';
import { recordEvent } from './event-outbox';
import { listJournal } from './journal-list';
import type { PgPool, Queryable } from './pool';
import { insertJob, requireLease } from './queue-repository';

const LIVE = `('received', 'processing', 'failed')`;

/**
 * The file journal in PostgreSQL. Each transition writes the state and its timeline event (and
 * its `file.*` outbox event) in one transaction and returns the row (UPDATE … RETURNING). A
 * transition made under a queue lease first locks the lease's job row and checks that the lease
 * is still held (FG_LEASE_LOST otherwise, nothing written): a node whose lease was taken over
 * never finishes the file its successor works on.
 */
export class PostgresJournalRepository implements JournalRepository {
  constructor(private readonly db: PgPool) {}

  async get(id: string): Promise<JournalFile | undefined> {
    const row = await this.db.row<FileRow>('SELECT * FROM files WHERE id = $1', [id]);
    return row && toFile(row);
  }

  async list(query: JournalQuery = {}): Promise<JournalPage> { return listJournal(this.db, query); }

  async events(fileId: string): Promise<FileEvent[]> {
    return (await this.db.rows<{ id: number; file_id: string; at: number; type: string; detail: string }>('SELECT * FROM file_events WHERE file_id = $1 ORDER BY id', [fileId]))
      .map((e) => ({ id: e.id, fileId: e.file_id, at: e.at, type: e.type, detail: JSON.parse(e.detail) as Record<string, unknown> }));
  }

  async insert(f: NewJournalFile, at = f.receivedAt ?? Date.now()): Promise<JournalFile | undefined> {
    return this.db.transaction((tx) => insertFile(tx, f, at));
  }

  async liveAt(location: string): Promise<JournalFile | undefined> {
    const row = await this.db.row<FileRow>(`SELECT * FROM files WHERE location = $1 AND state IN ${LIVE}`, [location]);
    return row && toFile(row);
  }

  async uploadEntry(accountId: string, originalPath: string, identity: string): Promise<JournalFile | undefined> {
    const row = await this.db.row<FileRow>('SELECT * FROM files WHERE account_id = $1 AND original_path = $2 AND upload_identity = $3', [accountId, originalPath, identity]);
    return row && toFile(row);
  }

  async live(): Promise<JournalFile[]> {
    return (await this.db.rows<FileRow>(`SELECT * FROM files WHERE state IN ${LIVE} ORDER BY received_at, id`)).map(toFile);
  }

  async addEvent(fileId: string, type: string, detail: Record<string, unknown> = {}, at = Date.now()): Promise<void> {
    await addEvent(this.db, fileId, type, detail, at);
  }

  async change(id: string, patch: FilePatch, event?: EventInput, at = Date.now()): Promise<JournalFile | undefined> {
    if (!event) return update(this.db, id, patch, at);
    return this.db.transaction((tx) => change(tx, id, patch, event, at));
  }

  async update(id: string, patch: FilePatch, at = Date.now()): Promise<JournalFile | undefined> { return update(this.db, id, patch, at); }

  async startAttempt(id: string, attempt: number, of: number, workflow: string, held: HeldLease = {}): Promise<JournalFile> {
    return this.db.transaction(async (tx) => {
      if (held.lease) await requireLease(tx, held.lease);
      const before = await tx.row<{ state: string; attempts: number }>('SELECT state, attempts FROM files WHERE id = $1 FOR UPDATE', [id]);
      if (before?.state === 'processing' && before.attempts < attempt) await addEvent(tx, id, 'interrupted', takenOver(before.attempts), Date.now());
      return must(id, await change(tx, id, { state: 'processing', attempts: attempt, workflow, flux: workflow }, { type: 'attempt', detail: { attempt, of, workflow } }));
    });
  }

  async attemptFailed(id: string, attempt: number, failure: { code: string; error: string; retryInMs: number }): Promise<JournalFile> {
    return this.transition(id, { state: 'failed', outcome: { result: 'failed', code: failure.code, summary: failure.error } }, { type: 'attempt-failed', detail: { attempt, ...failure } });
  }

  async finish(id: string, state: 'processed' | 'rejected' | 'dead', outcome: OutcomeSummary, options: HeldLease & { at?: number } = {}): Promise<JournalFile> {
    const at = options.at ?? Date.now();
    return this.db.transaction(async (tx) => {
      if (options.lease) await requireLease(tx, options.lease);
      const file = must(id, await change(tx, id, { state, outcome, processedAt: at }, { type: state, detail: { ...outcome } }, at));
      await recordEvent(tx, fileEvent(file, `file.${state}`, at));
      return file;
    });
  }

  async pause(id: string, detail: Record<string, unknown>): Promise<JournalFile> {
    return this.transition(id, { state: 'received' }, { type: 'paused', detail });
  }

  async moved(id: string, location: string, eventType: string, detail: Record<string, unknown>): Promise<JournalFile> {
    return this.transition(id, { location }, { type: eventType, detail });
  }

  async recordUpload(
    upload: NewJournalFile,
    jobOf: (file: JournalFile) => NewJob,
    refusalOf: (account: Account | undefined, file: JournalFile) => OutcomeSummary | undefined,
  ): Promise<{ file: JournalFile; refusal?: OutcomeSummary } | undefined> {
    return this.db.transaction(async (tx) => {
      const inserted = await insertFile(tx, upload, upload.receivedAt ?? Date.now());
      if (!inserted) return undefined;
      // The account row locked as it is now: an `account disable` on another node either committed before (refused here) or waits for this upload.
      const account = await tx.row<AccountRow>('SELECT * FROM accounts WHERE id = $1 FOR SHARE', [inserted.accountId]);
      const refusal = refusalOf(account && toAccount(account), inserted);
      if (refusal) return { file: must(inserted.id, await update(tx, inserted.id, { state: 'rejected', outcome: refusal, processedAt: Date.now() }, Date.now())), refusal };
      await insertJob(tx, jobOf(inserted));
      return { file: inserted };
    });
  }

  async replayWithJob(id: string, from: FileState, location: string, job: NewJob): Promise<JournalFile> {
    return this.db.transaction(async (tx) => {
      const file = must(id, await change(tx, id, { state: 'received', attempts: 0, outcome: null, processedAt: null }, { type: 'replay', detail: { from, location } }));
      await insertJob(tx, job);
      return file;
    });
  }

  /** Single node only (at its start no attempt can be running): in a cluster another node's files are `processing` too (releaseDeadHolders). */
  async markInterrupted(at = Date.now()): Promise<JournalFile[]> {
    return this.db.transaction(async (tx) => {
      const files = (await tx.rows<FileRow>(`SELECT * FROM files WHERE state = 'processing' ORDER BY received_at, id FOR UPDATE`)).map(toFile);
      for (const f of files) await interrupt(tx, f, at);
      return files;
    });
  }

  async releaseDeadHolders(at = Date.now()): Promise<{ released: number; interrupted: JournalFile[] }> {
    return this.db.transaction(async (tx) => {
      // This host's leases, locked (SKIP LOCKED: one another node is settling is live, not dead).
      const held = await tx.rows<{ id: number; topic: string; attempts: number; leased_pid: number | null; leased_host: string | null; file_id: string | null }>(
        `SELECT id, topic, attempts, leased_pid, leased_host, payload::jsonb ->> 'fileId' AS file_id FROM queue
         WHERE state = 'leased' AND leased_host = $1 ORDER BY id FOR UPDATE SKIP LOCKED`, [hostname()]);
      let released = 0;
      const interrupted: JournalFile[] = [];
      for (const job of held.filter((r) => holderIsDeadHere(r.leased_pid, r.leased_host))) {
        released += await tx.run(`UPDATE queue SET state = 'ready', lease_until = NULL, run_at = LEAST(run_at, $3), updated_at = $3
          WHERE id = $1 AND state = 'leased' AND attempts = $2`, [job.id, job.attempts, at]);
        if (job.topic !== FILE_PROCESS_TOPIC || job.file_id === null) continue;
        const row = await tx.row<FileRow>(`SELECT * FROM files WHERE id = $1 AND state = 'processing' FOR UPDATE`, [job.file_id]);
        if (!row) continue;
        await interrupt(tx, toFile(row), at);
        interrupted.push(toFile(row));
      }
      return { released, interrupted };
    });
  }

  async receiptPathTaken(path: string, exceptFileId: string): Promise<boolean> {
    return (await this.db.row('SELECT 1 FROM files WHERE receipt_path = $1 AND id <> $2 LIMIT 1', [path, exceptFileId])) !== undefined;
  }

  async outputOwner(path: string): Promise<string | null | undefined> {
    const row = await this.db.row<{ file_id: string | null }>('SELECT file_id FROM outputs WHERE path = $1 ORDER BY id DESC LIMIT 1', [path]);
    return row ? row.file_id : undefined;
  }

  async recordOutput(fileId: string, accountId: string, kind: 'receipt' | 'report', path: string, at = Date.now()): Promise<void> {
    await this.db.run('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES ($1, $2, $3, $4, $5)', [fileId, accountId, kind, path, at]);
  }

  private async transition(id: string, patch: FilePatch, event: EventInput): Promise<JournalFile> {
    return this.db.transaction(async (tx) => must(id, await change(tx, id, patch, event)));
  }
}

/** The file's attempt was cut short by a stop or crash: its `interrupted` event, and `failed` (it runs again). */
async function interrupt(q: Queryable, f: JournalFile, at: number): Promise<void> {
  const started = await q.row<{ at: number }>(`SELECT at FROM file_events WHERE file_id = $1 AND type = 'attempt' ORDER BY id DESC LIMIT 1`, [f.id]);
  await change(q, f.id, { state: 'failed' }, {
    type: 'interrupted',
    detail: {
      attempt: f.attempts, ...(started === undefined ? {} : { attemptStartedAt: new Date(started.at).toISOString() }),
      reason: 'the server stopped or crashed during this attempt; the file runs again',
    },
  }, at);
}

/** The row and its `received` events, unless a live row holds the location or a row the same upload (undefined then). */
async function insertFile(q: Queryable, f: NewJournalFile, at: number): Promise<JournalFile | undefined> {
  // A live row (received, processing, failed) at the location: nothing. Two nodes journaling one upload at once
  // both pass NOT EXISTS; the unique index of received/processing locations lets one row in. A row of the same
  // upload (account, path, identity: 020), whatever its state, lets none in: a node whose scan digested the file
  // while another recorded, processed and archived it does not record it again. ON CONFLICT without a target
  // covers both indexes (a target names one, and the other's conflict would be an error).
  const row = await q.row<FileRow>(`INSERT INTO files (id, account_id, profile, flux, workflow, original_path, name, size,
      sha1, sha256, received_at, state, location, updated_at, client_address, client_fingerprint, upload_identity)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8::bigint, $9, $10, $11::bigint, 'received', $12::text, $11::bigint, $13, $14, $15
    WHERE NOT EXISTS (SELECT 1 FROM files WHERE location = $12::text AND state IN ${LIVE})
    ON CONFLICT DO NOTHING RETURNING *`,
  [newFileId(at), f.accountId, f.profile, f.flux, f.workflow, f.originalPath, f.name, f.size, f.sha1, f.sha256, at, f.location,
    f.client?.address ?? null, f.client?.fingerprint ?? null, f.identity ?? null]);
  if (!row) return undefined;
  await addEvent(q, row.id, 'received', { path: f.originalPath, size: f.size, sha256: f.sha256 }, at);
  const file = toFile(row);
  await recordEvent(q, fileEvent(file, 'file.received', at));
  return file;
}

async function addEvent(q: Queryable, fileId: string, type: string, detail: Record<string, unknown>, at: number): Promise<void> {
  await q.run('INSERT INTO file_events (file_id, at, type, detail) VALUES ($1, $2, $3, $4)', [fileId, at, type, JSON.stringify(detail)]);
}

async function change(q: Queryable, id: string, patch: FilePatch, event: EventInput, at = Date.now()): Promise<JournalFile | undefined> {
  const file = await update(q, id, patch, at);
  if (file) await addEvent(q, id, event.type, event.detail ?? {}, at);
  return file;
}

/** Sets the patch's columns (fixed names from PATCH_COLUMNS) and updated_at; the row as it now is. */
async function update(q: Queryable, id: string, patch: FilePatch, at: number): Promise<JournalFile | undefined> {
  const keys = (Object.keys(patch) as Array<keyof FilePatch>).filter((k) => patch[k] !== undefined).sort();
  const values: unknown[] = [id, at];
  const sets = ['updated_at = $2'];
  for (const k of keys) {
    values.push(PATCH_COLUMNS[k].json && patch[k] !== null ? JSON.stringify(patch[k]) : patch[k]);
    sets.push(`${PATCH_COLUMNS[k].column} = $${values.length}`);
  }
  const row = await q.row<FileRow>(`UPDATE files SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
  return row && toFile(row);
}

function must(id: string, file: JournalFile | undefined): JournalFile {
  if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `file ${id} is not in the journal: it was removed (with its account?) while in use`);
  return file;
}
