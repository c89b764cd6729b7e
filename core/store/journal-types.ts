/** The journal's records as the rest of the engine sees them, and their mapping from SQL rows. */
import type { UploadClient } from '../events';

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
  /**
   * The SFTP client that uploaded it (real address behind a trusted proxy, key fingerprint);
   * null for a file found in the tree (dropped by other means) or journaled before 016.
   */
  client: UploadClient | null;
}

export interface FileEvent {
  id: number;
  fileId: string;
  at: number;
  type: string;
  detail: Record<string, unknown>;
}

/** An entry of a file's timeline, written in the transaction of the change it records. */
export interface EventInput {
  type: string;
  detail?: Record<string, unknown>;
}

/** What intake knows of a file it journals (the rest starts at its defaults). */
export type NewJournalFile = Pick<JournalFile, 'accountId' | 'flux' | 'workflow' | 'originalPath' | 'name' | 'size' | 'sha1' | 'sha256' | 'location'>
  & {
    profile: 'exchange' | 'dropbox'; receivedAt?: number; client?: UploadClient | null;
    /**
     * The file's identity when intake took it in (uploadIdentity, core/intake/upload-identity.ts):
     * one entry per account, path and identity, whatever its state (migration 020). Absent: no such check.
     */
    identity?: string | null;
  };

/** The columns a change may set (updated_at is always set). */
export type FilePatch = Partial<{
  state: FileState; attempts: number; outcome: OutcomeSummary | null; location: string; flux: string | null;
  workflow: string | null; reportPath: string | null; receiptPath: string | null; receiptWrittenAt: number | null;
  reportWrittenAt: number | null; naming: NamingParts | null; processedAt: number | null;
}>;

/** Patch key → column, and how its value is stored. */
export const PATCH_COLUMNS: Record<keyof FilePatch, { column: string; json?: true }> = {
  state: { column: 'state' }, attempts: { column: 'attempts' }, outcome: { column: 'outcome', json: true },
  location: { column: 'location' }, flux: { column: 'flux' }, workflow: { column: 'workflow' },
  reportPath: { column: 'report_path' }, receiptPath: { column: 'receipt_path' },
  receiptWrittenAt: { column: 'receipt_written_at' }, reportWrittenAt: { column: 'report_written_at' },
  naming: { column: 'naming', json: true }, processedAt: { column: 'processed_at' },
};

export interface FileRow {
  id: string; account_id: string; profile: 'exchange' | 'dropbox' | null; flux: string | null; workflow: string | null;
  original_path: string; name: string; size: number; sha1: string; sha256: string; received_at: number;
  state: FileState; attempts: number; outcome: string | null; location: string; report_path: string | null;
  receipt_path: string | null; receipt_written_at: number | null; report_written_at: number | null;
  naming: string | null; processed_at: number | null; updated_at: number;
  client_address: string | null; client_fingerprint: string | null;
  /** Migration 020; not part of JournalFile (only intake's duplicate check reads it). */
  upload_identity?: string | null;
}

export const toFile = (r: FileRow): JournalFile => ({
  id: r.id, accountId: r.account_id, profile: r.profile, flux: r.flux, workflow: r.workflow,
  originalPath: r.original_path, name: r.name, size: r.size, sha1: r.sha1, sha256: r.sha256,
  receivedAt: r.received_at, state: r.state, attempts: r.attempts,
  outcome: r.outcome ? (JSON.parse(r.outcome) as OutcomeSummary) : null,
  location: r.location, reportPath: r.report_path, receiptPath: r.receipt_path,
  receiptWrittenAt: r.receipt_written_at, reportWrittenAt: r.report_written_at,
  naming: r.naming ? (JSON.parse(r.naming) as NamingParts) : null,
  processedAt: r.processed_at, updatedAt: r.updated_at,
  client: r.client_address === null ? null : { address: r.client_address, fingerprint: r.client_fingerprint },
});
