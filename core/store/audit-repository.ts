import type { Database } from './database';
import type { AuditEntry, AuditRepository, NewAuditEntry } from './ports/audit';

interface Row { id: number; at: number; actor: string; role: string; action: string; target: string | null; address: string | null; status: number | null; code: string | null; detail: string }

/** The audit log in SQLite. */
export class SqliteAuditRepository implements AuditRepository {
  constructor(private readonly db: Database) {}

  async record(e: NewAuditEntry): Promise<void> {
    this.db.prepare(`INSERT INTO audit_log (at, actor, role, action, target, address, status, code, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.at ?? Date.now(), e.actor, e.role, e.action, e.target, e.address, e.status, e.code, JSON.stringify(e.detail ?? {}));
  }

  async list(options: { limit?: number; before?: number; actor?: string } = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: options.limit ?? 100 };
    if (options.before !== undefined) { where.push('id < @before'); params.before = options.before; }
    if (options.actor) { where.push('actor = @actor'); params.actor = options.actor; }
    const rows = this.db.prepare(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all(params) as Row[];
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
