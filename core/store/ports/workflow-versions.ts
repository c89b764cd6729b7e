/** Workflow files' last good definitions and states (migration 013), engine-neutral. */

/** What runs for one workflow file: its own definition, its last good one (the file is invalid), or nothing. */
export type WorkflowFileState = 'file' | 'last-good' | 'not-loaded';

export interface WorkflowStatusRow {
  source: string;
  flux: string | null;
  state: WorkflowFileState;
  /** Why the file itself is not what runs (file, line, key, message). */
  problem: string | null;
  /** The definition in use when it is the last good one: its SHA-256 and when it was saved. */
  goodSha256: string | null;
  goodSavedAt: number | null;
  updatedAt: number;
}

/** A workflow file's last good definition: the YAML text, never a parsed form (validated again before use). */
export interface GoodDefinition {
  flux: string;
  content: string;
  sha256: string;
  savedAt: number;
}

export interface WorkflowStatus {
  flux?: string;
  state: WorkflowFileState;
  problem?: string;
  goodSha256?: string;
}

/**
 * The last good definition of each workflow file, and each file's state as the running server
 * last set it. The registry reads them all (`allGood`) before it is built.
 */
export interface WorkflowVersionRepository {
  /** Saves the definition as the file's last good one (nothing when it is that already). */
  saveGood(source: string, flux: string, content: string): Promise<void>;
  lastGood(source: string): Promise<GoodDefinition | undefined>;
  /** Every file's last good definition, by source path. */
  allGood(): Promise<Map<string, GoodDefinition>>;
  setStatus(source: string, status: WorkflowStatus): Promise<void>;
  forget(source: string): Promise<void>;
  statuses(): Promise<WorkflowStatusRow[]>;
}
