import type { AuditEntry, AuditRepository, NewAuditEntry } from '../ports/audit';
import type { PgPool } from './pool';

interface Row { id: number; at: number; actor: string; role: string; action: string; target: string | null; address: string | null; status: number | null; code: string | null; detail: string }

/** The audit log in PostgreSQL. */
export class PostgresAuditRepository implements AuditRepository {
  constructor(private readonly db: PgPool) {}

  async record(e: NewAuditEntry): Promise<void> {
    await this.db.run(`INSERT INTO audit_log (at, actor, role, action, target, address, status, code, detail)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [e.at ?? Date.now(), e.actor, e.role, e.action, e.target, e.address, e.status, e.code, JSON.stringify(e.detail ?? {})]);
  }

  async list(options: { limit?: number; before?: number; actor?: string } = {}): Promise<AuditEntry[]> {
    // Absent filters are NULL parameters: one statement text, no SQL built from input.
    const rows = await this.db.rows<Row>(`SELECT * FROM audit_log WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR actor = $2)
      ORDER BY id DESC LIMIT $3`, [options.before ?? null, options.actor || null, options.limit ?? 100]);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
