import { createHash } from 'node:crypto';
import type { GoodDefinition, WorkflowFileState, WorkflowStatus, WorkflowStatusRow, WorkflowVersionRepository } from '../ports/workflow-versions';
import type { PgPool } from './pool';

interface GoodRow { source: string; flux: string; content: string; sha256: string; saved_at: number }
const toGood = (r: GoodRow): GoodDefinition => ({ flux: r.flux, content: r.content, sha256: r.sha256, savedAt: r.saved_at });

/** Workflow files' last good definitions and states (migration 013) in PostgreSQL: YAML text, validated again before use. */
export class PostgresWorkflowVersionRepository implements WorkflowVersionRepository {
  constructor(private readonly db: PgPool) {}

  async saveGood(source: string, flux: string, content: string): Promise<void> {
    await this.db.run(`INSERT INTO workflow_versions (source, flux, content, sha256, saved_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (source) DO UPDATE SET flux = excluded.flux, content = excluded.content, sha256 = excluded.sha256, saved_at = excluded.saved_at
      WHERE workflow_versions.sha256 <> excluded.sha256`, [source, flux, content, createHash('sha256').update(content).digest('hex'), Date.now()]);
  }

  async lastGood(source: string): Promise<GoodDefinition | undefined> {
    const row = await this.db.row<GoodRow>('SELECT * FROM workflow_versions WHERE source = $1', [source]);
    return row && toGood(row);
  }

  async allGood(): Promise<Map<string, GoodDefinition>> {
    return new Map((await this.db.rows<GoodRow>('SELECT * FROM workflow_versions ORDER BY source')).map((r) => [r.source, toGood(r)]));
  }

  async setStatus(source: string, status: WorkflowStatus): Promise<void> {
    await this.db.run(`INSERT INTO workflow_status (source, flux, state, problem, good_sha256, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (source) DO UPDATE SET flux = excluded.flux, state = excluded.state, problem = excluded.problem,
        good_sha256 = excluded.good_sha256, updated_at = excluded.updated_at`,
    [source, status.flux ?? null, status.state, status.problem ?? null, status.goodSha256 ?? null, Date.now()]);
  }

  async forget(source: string): Promise<void> {
    await this.db.run('DELETE FROM workflow_status WHERE source = $1', [source]);
  }

  async statuses(): Promise<WorkflowStatusRow[]> {
    const rows = await this.db.rows<{
      source: string; flux: string | null; state: WorkflowFileState; problem: string | null; good_sha256: string | null; good_saved_at: number | null; updated_at: number;
    }>(`SELECT s.source, s.flux, s.state, s.problem, s.good_sha256, v.saved_at AS good_saved_at, s.updated_at
      FROM workflow_status s LEFT JOIN workflow_versions v ON v.source = s.source AND v.sha256 = s.good_sha256 ORDER BY s.source`);
    return rows.map((r) => ({ source: r.source, flux: r.flux, state: r.state, problem: r.problem, goodSha256: r.good_sha256, goodSavedAt: r.good_saved_at, updatedAt: r.updated_at }));
  }
}
