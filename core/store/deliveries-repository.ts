import { FluxgateError } from '../errors';
import type { Database } from './database';
import { toStoredEvent, type EventRow } from './event-types';
import type { ClaimedDelivery, Delivery, DeliveryRepository, DeliveryState } from './ports/events';
import { statement } from './statements';

export interface DeliveryRow {
  id: number; event_id: string; subscription: string; channel: 'webhook' | 'email'; state: DeliveryState; attempts: number;
  due_at: number; retry_from: number; lease_until: number | null; lease_holder: string | null; last_status: number | null;
  last_error: string | null; created_at: number; updated_at: number; delivered_at: number | null;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id, eventId: r.event_id, subscription: r.subscription, channel: r.channel, state: r.state, attempts: r.attempts,
  dueAt: r.due_at, retryFrom: r.retry_from, leaseUntil: r.lease_until, lastStatus: r.last_status, lastError: r.last_error,
  createdAt: r.created_at, updatedAt: r.updated_at, deliveredAt: r.delivered_at,
});

/**
 * Deliveries (one per event × subscription). The dispatcher claims due ones under a lease:
 * a process killed while sending leaves the lease to lapse, and the delivery is sent again.
 * Results are recorded only by the lease's holder, so a delivery is recorded `delivered` once.
 */
export class SqliteDeliveryRepository implements DeliveryRepository {
  constructor(private readonly db: Database) {}

  /** Due deliveries not leased by anyone, leased to `holder` until now + leaseMs, with their events. */
  async claim(holder: string, now: number, leaseMs: number, limit = 50): Promise<ClaimedDelivery[]> {
    // A read first: an idle poll takes no write lock.
    const due = statement(this.db, `SELECT 1 FROM deliveries WHERE state IN ('pending', 'failed') AND due_at <= ?
      AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1`).get(now, now);
    if (!due) return [];
    return this.db.transaction(() => {
      const rows = statement(this.db, `UPDATE deliveries SET lease_until = @until, lease_holder = @holder
        WHERE id IN (SELECT id FROM deliveries WHERE state IN ('pending', 'failed') AND due_at <= @now
          AND (lease_until IS NULL OR lease_until <= @now) ORDER BY due_at, id LIMIT @limit)
        RETURNING *`).all({ until: now + leaseMs, holder, now, limit }) as DeliveryRow[];
      return rows.sort((a, b) => a.due_at - b.due_at || a.id - b.id).map((r) => {
        const event = statement(this.db, 'SELECT * FROM events WHERE id = ?').get(r.event_id) as EventRow;
        return { delivery: toDelivery(r), event: toStoredEvent(event) };
      });
    }).immediate();
  }

  /** A 2xx (or an accepted mail): final. False when the lease was lost meanwhile. */
  async delivered(id: number, holder: string, at: number, status: number | null): Promise<boolean> {
    return statement(this.db, `UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = @at, updated_at = @at,
        last_status = @status, last_error = NULL, lease_until = NULL, lease_holder = NULL
      WHERE id = @id AND lease_holder = @holder`).run({ id, holder, at, status }).changes > 0;
  }

  /** The attempt failed: `failed` and due again at `nextAt`, or `dead` (nextAt null). */
  async failed(id: number, holder: string, at: number, failure: { status: number | null; error: string; nextAt: number | null }): Promise<boolean> {
    return statement(this.db, `UPDATE deliveries SET state = @state, attempts = attempts + 1, due_at = COALESCE(@nextAt, due_at),
        updated_at = @at, last_status = @status, last_error = @error, lease_until = NULL, lease_holder = NULL
      WHERE id = @id AND lease_holder = @holder`).run({
      id, holder, at, state: failure.nextAt === null ? 'dead' : 'failed', nextAt: failure.nextAt, status: failure.status, error: failure.error,
    }).changes > 0;
  }

  /**
   * Single node (one server per data directory): at start-up no lease can be held by a live
   * sender, so deliveries a crash left leased are sent again at once rather than when their
   * lease lapses. In a cluster (issue #20) the lapse alone does it.
   */
  async releaseAllLeases(): Promise<number> {
    return statement(this.db, 'UPDATE deliveries SET lease_until = NULL, lease_holder = NULL WHERE lease_until IS NOT NULL').run().changes;
  }

  async get(id: number): Promise<Delivery | undefined> {
    return this.getNow(id);
  }

  private getNow(id: number): Delivery | undefined {
    const row = statement(this.db, 'SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row && toDelivery(row);
  }

  /** Newest first. */
  async list(q: { state?: DeliveryState; eventId?: string; limit?: number } = {}): Promise<Delivery[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit ?? 100 };
    if (q.state) { where.push('state = @state'); params.state = q.state; }
    if (q.eventId) { where.push('event_id = @eventId'); params.eventId = q.eventId; }
    const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as DeliveryRow[]).map(toDelivery);
  }

  /** A failed or dead delivery is due again now, with a new horizon (`fluxgate deliveries retry`). */
  async retry(id: number, at = Date.now()): Promise<Delivery> {
    const d = this.getNow(id);
    if (!d) throw new FluxgateError('FG_DELIVERY_NOT_FOUND', `no delivery ${id}: see \`fluxgate deliveries list\``, { delivery: id });
    if (d.state !== 'failed' && d.state !== 'dead') {
      throw new FluxgateError('FG_DELIVERY_STATE', `delivery ${id} is ${d.state}: only a failed or dead delivery is retried`, { delivery: id, state: d.state });
    }
    statement(this.db, `UPDATE deliveries SET state = 'pending', due_at = @at, retry_from = @at, updated_at = @at, lease_until = NULL, lease_holder = NULL
      WHERE id = @id`).run({ id, at });
    return this.getNow(id)!;
  }
}
