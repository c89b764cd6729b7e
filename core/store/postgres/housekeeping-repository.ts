import { FINAL_DELIVERY_STATES, nextCursor } from '../housekeeping-repository';
import type { ChunkCursor, ChunkRequest, EventChunk, HousekeepingRepository, QueueChunk } from '../ports/housekeeping';
import type { PgPool } from './pool';

const start = (r: ChunkRequest): ChunkCursor => r.after ?? { at: Number.MIN_SAFE_INTEGER, id: 0 };
const FINAL = [...FINAL_DELIVERY_STATES];

/**
 * The housekeeping job's deletions in PostgreSQL, a chunk per transaction. The rows a chunk
 * deletes are locked first and their states read once locked, so that a delivery another node
 * is claiming or an operator is retrying at that moment is seen as it is after that change.
 */
export class PostgresHousekeepingRepository implements HousekeepingRepository {
  constructor(private readonly db: PgPool) {}

  async deleteDoneJobs(request: ChunkRequest): Promise<QueueChunk> {
    const { at, id } = start(request);
    const params = [request.upTo, at, id, request.limit];
    const select = (columns: string) => `SELECT ${columns} FROM queue WHERE state = 'done' AND updated_at <= $1 AND (updated_at, id) > ($2, $3)
      ORDER BY updated_at, id LIMIT $4`;
    // A done job is never changed again: its row lock only keeps two deleters (two runs by hand on two nodes) apart.
    const rows = request.dryRun
      ? await this.db.rows<{ id: number; updated_at: number }>(select('id, updated_at'), params)
      : await this.db.rows<{ id: number; updated_at: number }>(`DELETE FROM queue WHERE id IN (${select('id')} FOR UPDATE SKIP LOCKED)
          RETURNING id, updated_at`, params);
    rows.sort((a, b) => a.updated_at - b.updated_at || a.id - b.id);
    return { deleted: rows.length, next: nextCursor(rows, request.limit, (r) => ({ at: r.updated_at, id: r.id })) };
  }

  async deleteFinishedEvents(request: ChunkRequest): Promise<EventChunk> {
    const { at, id } = start(request);
    return this.db.transaction(async (tx) => {
      const rows = await tx.rows<{ seq: number; id: string; at: number }>(`SELECT seq, id, at FROM events
        WHERE at <= $1 AND (at, seq) > ($2, $3) AND routed ORDER BY at, seq LIMIT $4`, [request.upTo, at, id, request.limit]);
      const next = nextCursor(rows, request.limit, (r) => ({ at: r.at, id: r.seq }));
      if (rows.length === 0) return { examined: 0, events: 0, deliveries: 0, kept: 0, next };
      // Locked, then read: a retry (SELECT … FOR UPDATE) committed meanwhile shows here as pending;
      // one that comes after waits for this transaction, then finds the delivery gone.
      const deliveries = await tx.rows<{ event_id: string; state: string }>(`SELECT event_id, state FROM deliveries WHERE event_id = ANY($1::text[])
        ${request.dryRun ? '' : 'FOR UPDATE'}`, [rows.map((r) => r.id)]);
      const busy = new Set(deliveries.filter((d) => !FINAL.includes(d.state as never)).map((d) => d.event_id));
      const doomed = rows.filter((r) => !busy.has(r.id)).map((r) => r.id);
      let doomedDeliveries = deliveries.filter((d) => !busy.has(d.event_id)).length;
      if (!request.dryRun && doomed.length > 0) {
        doomedDeliveries = await tx.run('DELETE FROM deliveries WHERE event_id = ANY($1::text[])', [doomed]);
        await tx.run('DELETE FROM events WHERE id = ANY($1::text[])', [doomed]);
      }
      return { examined: rows.length, events: doomed.length, deliveries: doomedDeliveries, kept: busy.size, next };
    });
  }
}
