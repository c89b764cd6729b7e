import { hostname } from 'node:os';
import type { Database } from './database';
import type { NodeRepository, NodeRow } from './ports/nodes';

export type { NodeRepository, NodeRow } from './ports/nodes';

interface Row { id: string; address: string; host: string; pid: number; started_at: number; heartbeat_at: number; stopped_at: number | null; files_in_progress: number }

/** The `nodes` table (migration 015) on SQLite, and the count of file jobs this process holds. */
export class SqliteNodeRepository implements NodeRepository {
  constructor(private readonly db: Database) {}

  async started(node: { id: string; address: string; startedAt: number }): Promise<void> {
    this.db.prepare(`INSERT INTO nodes (id, address, host, pid, started_at, heartbeat_at, stopped_at, files_in_progress)
      VALUES (@id, @address, @host, @pid, @startedAt, @startedAt, NULL, 0)
      ON CONFLICT (id) DO UPDATE SET address = excluded.address, host = excluded.host, pid = excluded.pid,
        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, files_in_progress = 0`)
      .run({ ...node, host: hostname(), pid: process.pid });
  }

  async beat(id: string, at: number, filesInProgress: number): Promise<void> {
    this.db.prepare('UPDATE nodes SET heartbeat_at = ?, files_in_progress = ? WHERE id = ?').run(at, filesInProgress, id);
  }

  async stopped(id: string, at: number): Promise<void> {
    this.db.prepare('UPDATE nodes SET heartbeat_at = ?, stopped_at = ?, files_in_progress = 0 WHERE id = ?').run(at, at, id);
  }

  async leasedHere(topic: string, now: number): Promise<number> {
    return this.db.prepare(`SELECT count(*) FROM queue WHERE topic = ? AND state = 'leased' AND lease_until >= ? AND leased_pid = ? AND leased_host = ?`)
      .pluck().get(topic, now, process.pid, hostname()) as number;
  }

  async list(): Promise<NodeRow[]> {
    return (this.db.prepare('SELECT * FROM nodes ORDER BY id').all() as Row[]).map((r) => ({
      id: r.id, address: r.address, host: r.host, pid: r.pid, startedAt: r.started_at, heartbeatAt: r.heartbeat_at,
      stoppedAt: r.stopped_at, filesInProgress: r.files_in_progress,
    }));
  }
}
