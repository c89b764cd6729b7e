import { createHash } from 'node:crypto';
import type { Database } from './database';
import type { GoodDefinition, WorkflowStatus, WorkflowStatusRow, WorkflowVersionRepository, WorkflowFileState } from './ports/workflow-versions';

export type { GoodDefinition, WorkflowFileState, WorkflowStatus, WorkflowStatusRow, WorkflowVersionRepository } from './ports/workflow-versions';

interface GoodRow { source: string; flux: string; content: string; sha256: string; saved_at: number }
const toGood = (row: GoodRow): GoodDefinition => ({ flux: row.flux, content: row.content, sha256: row.sha256, savedAt: row.saved_at });

/**
 * The last good definition of each workflow file, and each file's state as the running server
 * last set it (migration 013), on SQLite. Rows hold the YAML text, never a parsed form: a stored
 * definition is validated again, by the server's current steps and handlers, before it is used.
 */
export class SqliteWorkflowVersionRepository implements WorkflowVersionRepository {
  constructor(private readonly db: Database) {}

  async saveGood(source: string, flux: string, content: string): Promise<void> {
    this.db.prepare(`INSERT INTO workflow_versions (source, flux, content, sha256, saved_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (source) DO UPDATE SET flux = excluded.flux, content = excluded.content, sha256 = excluded.sha256, saved_at = excluded.saved_at
      WHERE workflow_versions.sha256 <> excluded.sha256`)
      .run(source, flux, content, createHash('sha256').update(content).digest('hex'), Date.now());
  }

  async lastGood(source: string): Promise<GoodDefinition | undefined> {
    const row = this.db.prepare('SELECT source, flux, content, sha256, saved_at FROM workflow_versions WHERE source = ?').get(source) as GoodRow | undefined;
    return row && toGood(row);
  }

  async allGood(): Promise<Map<string, GoodDefinition>> {
    const rows = this.db.prepare('SELECT source, flux, content, sha256, saved_at FROM workflow_versions').all() as GoodRow[];
    return new Map(rows.map((r) => [r.source, toGood(r)]));
  }

  async setStatus(source: string, status: WorkflowStatus): Promise<void> {
    this.db.prepare(`INSERT INTO workflow_status (source, flux, state, problem, good_sha256, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (source) DO UPDATE SET flux = excluded.flux, state = excluded.state, problem = excluded.problem,
        good_sha256 = excluded.good_sha256, updated_at = excluded.updated_at`)
      .run(source, status.flux ?? null, status.state, status.problem ?? null, status.goodSha256 ?? null, Date.now());
  }

  async forget(source: string): Promise<void> {
    this.db.prepare('DELETE FROM workflow_status WHERE source = ?').run(source);
  }

  async statuses(): Promise<WorkflowStatusRow[]> {
    const rows = this.db.prepare(`SELECT s.source, s.flux, s.state, s.problem, s.good_sha256, v.saved_at AS good_saved_at, s.updated_at
      FROM workflow_status s LEFT JOIN workflow_versions v ON v.source = s.source AND v.sha256 = s.good_sha256 ORDER BY s.source`).all() as Array<{
      source: string; flux: string | null; state: WorkflowFileState; problem: string | null; good_sha256: string | null; good_saved_at: number | null; updated_at: number;
    }>;
    return rows.map((r) => ({ source: r.source, flux: r.flux, state: r.state, problem: r.problem, goodSha256: r.good_sha256, goodSavedAt: r.good_saved_at, updatedAt: r.updated_at }));
  }
}
