import type { Database } from './database';
import type { ChunkCursor, ChunkRequest, EventChunk, HousekeepingRepository, QueueChunk } from './ports/housekeeping';
import { statement } from './statements';

/** A delivery in one of these states is final: nothing will send it again unless an operator retries it. */
export const FINAL_DELIVERY_STATES = ['delivered', 'dead'] as const;
const FINAL = FINAL_DELIVERY_STATES.map((s) => `'${s}'`).join(', ');

/** The cursor after the last row of a full chunk; null when the chunk was not full (nothing after it). */
export const nextCursor = <R>(rows: R[], limit: number, key: (row: R) => ChunkCursor): ChunkCursor | null =>
  rows.length < limit || rows.length === 0 ? null : key(rows[rows.length - 1]);

const start = (r: ChunkRequest): ChunkCursor => r.after ?? { at: Number.MIN_SAFE_INTEGER, id: 0 };

/**
 * The housekeeping job's deletions in SQLite: each chunk one IMMEDIATE transaction (the single
 * writer is held for one chunk, not for the run), on the partial index of done jobs (migration
 * 021) and on events (at, seq).
 */
export class SqliteHousekeepingRepository implements HousekeepingRepository {
  constructor(private readonly db: Database) {}

  async deleteDoneJobs(request: ChunkRequest): Promise<QueueChunk> {
    const { at, id } = start(request);
    return this.unitOfWork(request, () => {
      // Named: without statistics SQLite's planner takes queue_ready (state =) and sorts every done job, chunk after chunk.
      const rows = statement(this.db, `SELECT id, updated_at FROM queue INDEXED BY queue_done WHERE state = 'done' AND updated_at <= @upTo
        AND (updated_at, id) > (@at, @id) ORDER BY updated_at, id LIMIT @limit`)
        .all({ upTo: request.upTo, at, id, limit: request.limit }) as Array<{ id: number; updated_at: number }>;
      if (!request.dryRun && rows.length > 0) {
        statement(this.db, `DELETE FROM queue WHERE id IN (SELECT value FROM json_each(?))`).run(JSON.stringify(rows.map((r) => r.id)));
      }
      return { deleted: rows.length, next: nextCursor(rows, request.limit, (r) => ({ at: r.updated_at, id: r.id })) };
    });
  }

  async deleteFinishedEvents(request: ChunkRequest): Promise<EventChunk> {
    const { at, id } = start(request);
    return this.unitOfWork(request, () => {
      const rows = statement(this.db, `SELECT seq, id, at FROM events WHERE at <= @upTo AND (at, seq) > (@at, @seq) AND routed = 1
        ORDER BY at, seq LIMIT @limit`).all({ upTo: request.upTo, at, seq: id, limit: request.limit }) as Array<{ seq: number; id: string; at: number }>;
      const next = nextCursor(rows, request.limit, (r) => ({ at: r.at, id: r.seq }));
      if (rows.length === 0) return { examined: 0, events: 0, deliveries: 0, kept: 0, next };
      const ids = JSON.stringify(rows.map((r) => r.id));
      const busy = new Set((statement(this.db, `SELECT DISTINCT event_id FROM deliveries
        WHERE event_id IN (SELECT value FROM json_each(?)) AND state NOT IN (${FINAL})`).pluck().all(ids) as string[]));
      const doomed = JSON.stringify(rows.filter((r) => !busy.has(r.id)).map((r) => r.id));
      let deliveries: number;
      if (request.dryRun) {
        deliveries = statement(this.db, 'SELECT count(*) FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))').pluck().get(doomed) as number;
      } else {
        deliveries = statement(this.db, 'DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))').run(doomed).changes;
        statement(this.db, 'DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').run(doomed);
      }
      return { examined: rows.length, events: rows.length - busy.size, deliveries, kept: busy.size, next };
    });
  }

  /** A write transaction, or under dryRun a read one (a dry run never waits for, nor blocks, the writer). */
  private unitOfWork<T>(request: ChunkRequest, fn: () => T): T {
    const tx = this.db.transaction(fn);
    return request.dryRun ? tx.deferred() : tx.immediate();
  }
}
