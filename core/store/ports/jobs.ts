/** What the cron jobs keep: run records and locks, tombstones, retention's registry, inactivity marks. */

export type RunOutcome = 'running' | 'ok' | 'failed' | 'interrupted';
export type RunCounts = Record<string, number>;

export interface CronRun {
  id: number;
  job: string;
  startedAt: number;
  endedAt: number | null;
  outcome: RunOutcome;
  dryRun: boolean;
  asOf: number;
  counts: RunCounts;
  error: string | null;
  /** The scheduled instant (epoch ms) the run was fired for; null for a manual run. One run per job and slot. */
  slot: number | null;
  /** Host name and process id of who ran it (null for runs recorded before schema 019). */
  host: string | null;
  pid: number | null;
}

/**
 * Run records and the per-job lock that keeps runs from overlapping across processes (the
 * server's schedule and `fluxgate jobs run` by hand). A lock whose process is gone is taken
 * over, and its run is recorded as interrupted.
 */
export interface CronRepository {
  /**
   * Unit of work: records a run as started and takes the job's lock; FG_JOB_RUNNING if a live
   * process holds it. With a `slot` (the scheduled instant, epoch ms), FG_JOB_SLOT_TAKEN when a
   * run of that job and slot was already begun, by any node, whatever its outcome.
   */
  begin(job: string, asOf: number, now?: number, slot?: number): Promise<CronRun>;
  /** Unit of work: records the end of a run and releases the lock it holds. */
  finish(runId: number, outcome: Exclude<RunOutcome, 'running'>, counts: RunCounts, error?: string | null, now?: number): Promise<void>;
  /** Unit of work: marks runs whose process died (lock no longer held) as interrupted; returns how many. */
  reapInterrupted(now?: number): Promise<number>;
  get(id: number): Promise<CronRun | undefined>;
  lastRun(job: string): Promise<CronRun | undefined>;
  runs(job: string, limit?: number): Promise<CronRun[]>;
}

/** What was deleted, when, and by which rule: the answer to "what happened to my file". */
export interface Tombstone {
  id: number;
  fileId: string | null;
  accountId: string;
  /** Absolute path of the deleted file. */
  path: string;
  name: string;
  size: number | null;
  sha256: string | null;
  rule: string;
  /** Real time of the deletion (intent time while pending). */
  deletedAt: number;
  /** The date the rules were evaluated as of (differs from deletedAt under `jobs run --at`). */
  asOf: number | null;
  state: 'pending' | 'done';
  /** `dev:ino:birth` of the file when the deletion was decided: a rerun never deletes a newer file at the same path. */
  inode: string | null;
  detail: Record<string, unknown>;
}

export type NewTombstone = Omit<Tombstone, 'id' | 'state'>;

export interface TombstoneFilter {
  accountId?: string;
  fileId?: string;
  /** Substring of the file name. */
  name?: string;
  limit?: number;
}

/**
 * Tombstones are written in two steps around the unlink: `intend` (pending) before the file
 * is removed, `confirm` after. A crash in between leaves a pending tombstone that the next run
 * reconciles, so no deletion goes unrecorded and none is recorded twice.
 */
export interface TombstoneRepository {
  intend(t: NewTombstone): Promise<Tombstone>;
  /**
   * Unit of work: marks the deletion done and, when the file is in the journal, its row
   * `deleted` with an event on its timeline, atomically.
   */
  confirm(id: number, extraDetail?: Record<string, unknown>, now?: number): Promise<void>;
  /** Withdraws an intent whose deletion is known not to have happened (the unlink failed). */
  discard(id: number): Promise<void>;
  get(id: number): Promise<Tombstone | undefined>;
  pending(): Promise<Tombstone[]>;
  list(filter?: TombstoneFilter): Promise<Tombstone[]>;
}

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

export interface JournalRowAt { fileId: string; state: string; size: number; sha256: string; receivedAt: number }

/**
 * What retention reads from the journal, and the first-seen registry of files the journal
 * does not know: their age is counted from when fluxgate first saw them (or their ctime, if
 * earlier), never from a client-settable mtime.
 */
export interface RetentionRepository {
  /**
   * Inputs the engine is done with, old enough for some rule, a page at a time, each read when
   * the previous one is done with (the caller deletes, and writes to the journal, between pages).
   */
  finishedInputs(cutoffs: { processedBefore: number; receivedBefore: number }, pageSize?: number): AsyncGenerator<RetainedInput>;
  /** The journal row (not deleted) whose file is at this location, a live one first. */
  journalRowAt(location: string): Promise<JournalRowAt | undefined>;
  /** Journal rows (any state but deleted) of an account, by location (purges). */
  journalAt(accountId: string): Promise<Map<string, JournalRowAt>>;
  /** The latest record of a report or receipt of the account at this path. */
  latestOutput(accountId: string, path: string): Promise<RecordedOutput | undefined>;
  /** Journal rows of an account not yet deleted (for purges). */
  undeletedFiles(accountId: string): Promise<Array<{ fileId: string; location: string; name: string; size: number; sha256: string }>>;
  seen(accountId: string): Promise<Map<string, SeenFile>>;
  /** Unit of work: replaces the account's registry with what a scan saw. */
  replaceSeen(accountId: string, files: SeenFile[], now?: number): Promise<void>;
  forgetAccount(accountId: string): Promise<void>;
}

export interface InactivityMark {
  accountId: string;
  /** The last-activity time the account was disabled for (last login, or creation). */
  basisAt: number;
  disabledAt: number;
}

/**
 * That the account-inactivity job disabled an account for a given period of inactivity, so
 * that an operator's `account enable` is not undone by the next run.
 */
export interface InactivityRepository {
  get(accountId: string): Promise<InactivityMark | undefined>;
  set(mark: InactivityMark): Promise<void>;
  clear(accountId: string): Promise<void>;
  /** Unit of work: disables the account (its account.disabled event included) and sets its mark, atomically. */
  disableAccount(mark: InactivityMark, reason: string): Promise<void>;
}
