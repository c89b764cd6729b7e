/** The file journal (migrations 004, 011, 016, 020), engine-neutral: rows, timelines and outputs. */
import type { JournalQuery } from '../journal-query';
import type {
  EventInput, FileEvent, FilePatch, FileState, JournalFile, NewJournalFile, OutcomeSummary,
} from '../journal-types';
import type { Account } from './accounts';
import type { LeaseRef, NewJob } from './queue';

export interface JournalPage {
  files: JournalFile[];
  /** Pass it as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** The journal's reads: a file, its timeline, a page (`fluxgate files`, `files show`, the HTTP API and console). */
export interface JournalReader {
  get(id: string): Promise<JournalFile | undefined>;
  /** One page of the journal, newest first (see JournalQuery); FG_CURSOR, FG_USAGE for a bad cursor or page size. */
  list(query?: JournalQuery): Promise<JournalPage>;
  events(fileId: string): Promise<FileEvent[]>;
}

/** What a final transition of the runner checks: the queue lease it works under (see LeaseRef). */
export interface HeldLease {
  lease?: LeaseRef;
}

/**
 * The file journal: one row per received file, and its timeline. Each transition writes the new
 * state and its timeline event in one transaction and returns the row as it now is, so callers
 * never read the row back. Transitions of a file that is not there fail with FG_FILE_NOT_FOUND.
 */
export interface JournalRepository extends JournalReader {
  /**
   * Journals a received file (`received`, its event and `file.received`); undefined when a live
   * row holds that location, or when a row of any state holds the same upload (account, path and
   * `identity`: migration 020).
   */
  insert(file: NewJournalFile, at?: number): Promise<JournalFile | undefined>;
  /** The live entry (engine still owns it) at this absolute location, if any. */
  liveAt(location: string): Promise<JournalFile | undefined>;
  /**
   * The entry of this upload, whatever its state and wherever the file is now: the row intake
   * made for the file of this identity at this account-relative path (migration 020), if any.
   */
  uploadEntry(accountId: string, originalPath: string, identity: string): Promise<JournalFile | undefined>;
  /** Files the engine still owns (received, processing, failed), oldest first: start-up recovery. */
  live(): Promise<JournalFile[]>;
  /** An entry of the file's timeline that changes nothing else (a step's duration, a forward…). */
  addEvent(fileId: string, type: string, detail?: Record<string, unknown>, at?: number): Promise<void>;
  /** Sets columns and, when given, adds the event that records why, atomically; undefined: no such file. */
  change(id: string, patch: FilePatch, event?: EventInput, at?: number): Promise<JournalFile | undefined>;
  /** Sets columns; undefined: no such file. */
  update(id: string, patch: FilePatch, at?: number): Promise<JournalFile | undefined>;

  // -- the lifecycle: each is one unit of work (state + event) returning the fresh row --

  /** An attempt begins: `processing`, under this workflow. With a lease: FG_LEASE_LOST unless it is still held. */
  startAttempt(id: string, attempt: number, of: number, workflow: string, held?: HeldLease): Promise<JournalFile>;
  /** The attempt failed and another follows after `retryInMs`: `failed`. */
  attemptFailed(id: string, attempt: number, failure: { code: string; error: string; retryInMs: number }): Promise<JournalFile>;
  /**
   * The file's processing ended: processed, rejected or dead, with its outcome and its
   * `file.<state>` event. With a lease, refused (FG_LEASE_LOST, nothing written) unless the
   * lease is still held: a holder whose lease was taken over never finishes the file twice.
   */
  finish(id: string, state: 'processed' | 'rejected' | 'dead', outcome: OutcomeSummary, options?: HeldLease & { at?: number }): Promise<JournalFile>;
  /** The attempt stopped for a reason not the file's own (no disk space): back to `received`. */
  pause(id: string, detail: Record<string, unknown>): Promise<JournalFile>;
  /** The input now lives at `location` (`archived`, `quarantined`, `location-repaired`…). */
  moved(id: string, location: string, eventType: string, detail: Record<string, unknown>): Promise<JournalFile>;
  /**
   * Unit of work of intake: the upload's row and either its queue job (`jobOf`) or its refusal
   * (`refusalOf`, given the account as it is now). Undefined when a live row holds the location
   * or a row of any state holds the same upload (`identity`): recorded once per upload, whichever
   * node records it first.
   * The callbacks compute, they do no I/O.
   */
  recordUpload(
    upload: NewJournalFile,
    jobOf: (file: JournalFile) => NewJob,
    refusalOf: (account: Account | undefined, file: JournalFile) => OutcomeSummary | undefined,
  ): Promise<{ file: JournalFile; refusal?: OutcomeSummary } | undefined>;
  /** Unit of work of `fluxgate replay`: the row back to `received` with its `replay` event, and its queue job. */
  replayWithJob(id: string, from: FileState, location: string, job: NewJob): Promise<JournalFile>;
  /**
   * Unit of work at a one-node start (SQLite: the data-dir lock guarantees one): files still `processing` get an `interrupted` event and the
   * state `failed`. Returns them as they were.
   */
  markInterrupted(at?: number): Promise<JournalFile[]>;
  /**
   * Unit of work at a node's start when several nodes share the store: only what is provably
   * dead is taken back. Leases held by processes of this host that no longer exist (pid and host
   * recorded at the claim; see holderIsDeadHere) go back to ready, and the files their
   * `file.process` jobs were running (`processing`) get an `interrupted` event and the state
   * `failed`. Live holders and other hosts' are left alone: their leases run out
   * (engine.leaseMs) and are claimed as usual. Returns the jobs released and the files as they were.
   */
  releaseDeadHolders(at?: number): Promise<{ released: number; interrupted: JournalFile[] }>;
  /** True when another file's receipt already uses this path (receipt names must be unique). */
  receiptPathTaken(path: string, exceptFileId: string): Promise<boolean>;
  /** The file whose output was last written at this path; null: an output of no file; undefined: none. */
  outputOwner(path: string): Promise<string | null | undefined>;
  recordOutput(fileId: string, accountId: string, kind: 'receipt' | 'report', path: string, at?: number): Promise<void>;
}
