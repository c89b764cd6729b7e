/** What the console's dashboard shows. */
export interface Dashboard {
  /** Files received since midnight UTC, by flux and state. */
  today: Array<{ flux: string; state: string; n: number }>;
  recentRejected: Array<{ id: string; account: string; name: string; flux: string | null; receivedAt: number; summary: string | null }>;
  dead: number;
  deadFiles: Array<{ id: string; account: string; name: string; receivedAt: number }>;
  queue: { ready: number; leased: number; oldestWaitingSeconds: number };
  /** Console and API logins today, from the audit log. */
  operatorLogins: { ok: number; refused: number };
  /** Keys that expire within 14 days (not yet expired), and jobs whose last run failed. */
  expiringKeys: Array<{ account: string; fingerprint: string; expiresAt: number }>;
  failedJobs: Array<{ job: string; startedAt: number; error: string | null }>;
  disabledAccounts: number;
  /** Accounts whose last SFTP login was today. */
  accountsLoggedInToday: number;
}

/** What /metrics reads at each scrape. */
export interface MetricsSnapshot {
  files: Array<{ flux: string; state: string; n: number }>;
  dead: number;
  queue: { ready: number; leased: number; oldestReadyAt: number | null };
  jobRuns: Array<{ job: string; outcome: string; n: number }>;
}

/** A file that finished (its final journal event), with the start of its last attempt. */
export interface FinishedFile { eventId: number; at: number; outcome: 'processed' | 'rejected' | 'dead'; flux: string | null; began: number | null }

/** Read models across tables for the operator plane: the dashboard, /metrics, /readyz. */
export interface OperationsRepository {
  /** The dashboard, read in one go (a handful of indexed queries). */
  dashboard(now?: number): Promise<Dashboard>;
  metrics(now?: number): Promise<MetricsSnapshot>;
  /** The id of the journal's last file event (0 when none): where /metrics starts counting finished files. */
  lastFileEventId(): Promise<number>;
  /** Files that finished after the journal event `afterEventId`, in order. */
  finishedFilesSince(afterEventId: number): Promise<FinishedFile[]>;
  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
}
