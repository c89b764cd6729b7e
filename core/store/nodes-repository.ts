import { hostname } from 'node:os';
import type { Database } from './database';

/** A node as `fluxgate nodes` shows it. Times are epoch milliseconds. */
export interface NodeRow {
  id: string;
  address: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
  filesInProgress: number;
}

interface Row { id: string; address: string; host: string; pid: number; started_at: number; heartbeat_at: number; stopped_at: number | null; files_in_progress: number }

/** SQL over the `nodes` table (migration 015), and the count of file jobs this process holds. */
export class NodesRepository {
  constructor(private readonly db: Database) {}

  /** Records a node starting: a node id seen before (a restart) starts afresh. */
  started(node: { id: string; address: string; startedAt: number }): void {
    this.db.prepare(`INSERT INTO nodes (id, address, host, pid, started_at, heartbeat_at, stopped_at, files_in_progress)
      VALUES (@id, @address, @host, @pid, @startedAt, @startedAt, NULL, 0)
      ON CONFLICT (id) DO UPDATE SET address = excluded.address, host = excluded.host, pid = excluded.pid,
        started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, files_in_progress = 0`)
      .run({ ...node, host: hostname(), pid: process.pid });
  }

  beat(id: string, at: number, filesInProgress: number): void {
    this.db.prepare('UPDATE nodes SET heartbeat_at = ?, files_in_progress = ? WHERE id = ?').run(at, filesInProgress, id);
  }

  stopped(id: string, at: number): void {
    this.db.prepare('UPDATE nodes SET heartbeat_at = ?, stopped_at = ?, files_in_progress = 0 WHERE id = ?').run(at, at, id);
  }

  /** The jobs of `topic` this process holds leased (the queue records the holder's pid and host). */
  leasedHere(topic: string, now: number): number {
    return this.db.prepare(`SELECT count(*) FROM queue WHERE topic = ? AND state = 'leased' AND lease_until >= ? AND leased_pid = ? AND leased_host = ?`)
      .pluck().get(topic, now, process.pid, hostname()) as number;
  }

  list(): NodeRow[] {
    return (this.db.prepare('SELECT * FROM nodes ORDER BY id').all() as Row[]).map((r) => ({
      id: r.id, address: r.address, host: r.host, pid: r.pid, startedAt: r.started_at, heartbeatAt: r.heartbeat_at,
      stoppedAt: r.stopped_at, filesInProgress: r.files_in_progress,
    }));
  }
}
