import { hostname } from 'node:os';
import type { NodeRepository, NodeRow } from '../ports/nodes';
import type { PgPool } from './pool';

interface Row { id: string; address: string; host: string; pid: number; started_at: number; heartbeat_at: number; stopped_at: number | null; files_in_progress: number }

/** The cluster's nodes (migration 015) in PostgreSQL: every node of the cluster writes its row here. */
export class PostgresNodeRepository implements NodeRepository {
  constructor(private readonly db: PgPool) {}

  async started(node: { id: string; address: string; startedAt: number }): Promise<void> {
    await this.db.run(`INSERT INTO nodes (id, address, host, pid, started_at, heartbeat_at, stopped_at, files_in_progress)
      VALUES ($1, $2, $3, $4, $5, $5, NULL, 0)
      ON CONFLICT (id) DO UPDATE SET address = excluded.address, host = excluded.host, pid = excluded.pid,
        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, files_in_progress = 0`,
    [node.id, node.address, hostname(), process.pid, node.startedAt]);
  }

  async beat(id: string, at: number, filesInProgress: number): Promise<void> {
    await this.db.run('UPDATE nodes SET heartbeat_at = $1, files_in_progress = $2 WHERE id = $3', [at, filesInProgress, id]);
  }

  async stopped(id: string, at: number): Promise<void> {
    await this.db.run('UPDATE nodes SET heartbeat_at = $1, stopped_at = $1, files_in_progress = 0 WHERE id = $2', [at, id]);
  }

  async leasedHere(topic: string, now: number): Promise<number> {
    return (await this.db.row<{ n: number }>(`SELECT count(*) AS n FROM queue WHERE topic = $1 AND state = 'leased' AND lease_until >= $2
      AND leased_pid = $3 AND leased_host = $4`, [topic, now, process.pid, hostname()]))!.n;
  }

  async list(): Promise<NodeRow[]> {
    return (await this.db.rows<Row>('SELECT * FROM nodes ORDER BY id')).map((r) => ({
      id: r.id, address: r.address, host: r.host, pid: r.pid, startedAt: r.started_at, heartbeatAt: r.heartbeat_at,
      stoppedAt: r.stopped_at, filesInProgress: r.files_in_progress,
    }));
  }
}
