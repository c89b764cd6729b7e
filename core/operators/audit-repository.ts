import type { Database } from '../store/database';

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

interface Row { id: number; at: number; actor: string; role: string; action: string; target: string | null; address: string | null; status: number | null; code: string | null; detail: string }

/** The audit log: append-only, read newest first. */
export class AuditRepository {
  constructor(private readonly db: Database) {}

  record(e: NewAuditEntry): void {
    this.db.prepare(`INSERT INTO audit_log (at, actor, role, action, target, address, status, code, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.at ?? Date.now(), e.actor, e.role, e.action, e.target, e.address, e.status, e.code, JSON.stringify(e.detail ?? {}));
  }

  /** Newest first; `before` is the id to continue after (the previous page's `nextCursor`). */
  list(options: { limit?: number; before?: number; actor?: string } = {}): AuditEntry[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: options.limit ?? 100 };
    if (options.before !== undefined) { where.push('id < @before'); params.before = options.before; }
    if (options.actor) { where.push('actor = @actor'); params.actor = options.actor; }
    const rows = this.db.prepare(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all(params) as Row[];
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
