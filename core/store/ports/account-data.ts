/** What an account owns in the store beyond its row: for `account remove` (and the purge's counts). */

/** The account's directory rows, by table (migrations 002 and 007). */
export interface DirectoryCounts {
  organizations: number;
  employees: number;
  users: number;
  documents: number;
  /**
   * Employees as they were before a file replaced them (dir_employee_versions), kept while the
   * file is processed: left only by files that never finished (dead, or interrupted). Personal
   * data like the rows they copy.
   */
  employeeVersions: number;
}

/** Every row an account owns, by table. Tombstones are not counted: they are the audit of deletions and outlive the account. */
export interface AccountRowCounts extends DirectoryCounts {
  accounts: number;
  keys: number;
  files: number;
  fileEvents: number;
  outputs: number;
  queue: number;
  inactivityMarks: number;
  retentionSeen: number;
}

/** A queue job of the account a worker holds right now. */
export interface LiveLease {
  jobId: number;
  fileId: string | null;
  fileName: string | null;
  leaseUntil: number;
}

/** One row of an export, JSON columns parsed. */
export type ExportRow = Record<string, unknown>;

/** The account's rows as an export holds them, each section in key order (two reads of the same rows are the same). */
export interface AccountSections {
  /** By DirectoryCounts table, in DIRECTORY_SECTIONS order. */
  directory: ReadonlyArray<{ name: keyof DirectoryCounts; rows: () => Iterable<ExportRow> }>;
  /** `files` (each with its events) then `outputs`. */
  journal: ReadonlyArray<{ name: 'files' | 'outputs'; rows: () => Iterable<ExportRow> }>;
}

/** What `removeAccountRows` did. */
export type RowRemoval =
  | { removed: AccountRowCounts }
  /** A worker holds a lease on a file of the account: nothing deleted. */
  | { busy: LiveLease[] }
  /** The rows are not those the caller exported: nothing deleted (export again). */
  | { changed: true };

export interface AccountDataRepository {
  counts(accountId: string): Promise<AccountRowCounts>;
  /** Jobs of the account leased by a live holder whose lease still runs (files being processed right now). */
  liveLeases(accountId: string, now?: number): Promise<LiveLease[]>;
  /** The account's rows, section by section, for an export (read once each, in key order). */
  sections(accountId: string): Promise<AccountSections>;
  /**
   * Unit of work of `account remove`: in one transaction that no other writer interleaves,
   * refuses when a live lease holds a file of the account (`busy`), re-reads the rows and hands
   * them to `unchanged` (it computes, no I/O: compares them with what was exported), and only
   * then deletes every row of the account but its tombstones.
   */
  removeAccountRows(accountId: string, unchanged: (current: AccountSections) => boolean, now?: number): Promise<RowRemoval>;
}
