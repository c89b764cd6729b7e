/** One change made through the operator plane (or an operator command of the CLI). */
export interface AuditEntry {
  id: number;
  at: number;
  /** `token:<name>`, `operator:<name>` (a login session), or `cli:<user>`. */
  actor: string;
  role: string;
  /** `POST /api/v1/accounts`, `admin add`… */
  action: string;
  /** What it was about: the route's parameters (`account=acme`), or the CLI's target. */
  target: string | null;
  address: string | null;
  /** HTTP status of the answer (null for CLI). */
  status: number | null;
  /** The error code when refused. */
  code: string | null;
  detail: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'detail'> & { at?: number; detail?: Record<string, unknown> };

/** The audit log: append-only, read newest first. */
export interface AuditRepository {
  record(e: NewAuditEntry): Promise<void>;
  /** Newest first; `before` is the id to continue after (the previous page's `nextCursor`). */
  list(options?: { limit?: number; before?: number; actor?: string }): Promise<AuditEntry[]>;
}
