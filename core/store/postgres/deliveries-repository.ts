import { FluxgateError } from '../../errors';
import { toDelivery, type DeliveryRow } from '../deliveries-repository';
import { toStoredEvent, type EventRow } from '../event-types';
import type { ClaimedDelivery, Delivery, DeliveryRepository, DeliveryState } from '../ports/events';
import type { PgPool } from './pool';

/**
 * Deliveries in PostgreSQL. A claim locks the due rows it takes and skips those another node is
 * claiming at that moment (FOR UPDATE SKIP LOCKED), so two nodes never lease the same delivery;
 * results are recorded only by the lease's holder.
 */
export class PostgresDeliveryRepository implements DeliveryRepository {
  constructor(private readonly db: PgPool) {}

  async claim(holder: string, now: number, leaseMs: number, limit = 50): Promise<ClaimedDelivery[]> {
    // A read first: an idle poll opens no transaction and locks nothing.
    const due = await this.db.row(`SELECT 1 FROM deliveries WHERE state IN ('pending', 'failed') AND due_at <= $1
      AND (lease_until IS NULL OR lease_until <= $1) LIMIT 1`, [now]);
    if (!due) return [];
    return this.db.transaction(async (tx) => {
      const rows = await tx.rows<DeliveryRow & { event: EventRow }>(`WITH taken AS (
          UPDATE deliveries SET lease_until = $1, lease_holder = $2
          WHERE id IN (SELECT id FROM deliveries WHERE state IN ('pending', 'failed') AND due_at <= $3
            AND (lease_until IS NULL OR lease_until <= $3) ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
          RETURNING *)
        SELECT taken.*, row_to_json(e) AS event FROM taken JOIN events e ON e.id = taken.event_id ORDER BY taken.due_at, taken.id`,
      [now + leaseMs, holder, now, limit]);
      return rows.map(({ event, ...delivery }) => ({ delivery: toDelivery(delivery), event: toStoredEvent(event) }));
    });
  }

  async delivered(id: number, holder: string, at: number, status: number | null): Promise<boolean> {
    return (await this.db.run(`UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = $3, updated_at = $3,
        last_status = $4, last_error = NULL, lease_until = NULL, lease_holder = NULL
      WHERE id = $1 AND lease_holder = $2`, [id, holder, at, status])) > 0;
  }

  async failed(id: number, holder: string, at: number, failure: { status: number | null; error: string; nextAt: number | null }): Promise<boolean> {
    return (await this.db.run(`UPDATE deliveries SET state = $4, attempts = attempts + 1, due_at = COALESCE($5, due_at),
        updated_at = $3, last_status = $6, last_error = $7, lease_until = NULL, lease_holder = NULL
      WHERE id = $1 AND lease_holder = $2`,
    [id, holder, at, failure.nextAt === null ? 'dead' : 'failed', failure.nextAt, failure.status, failure.error])) > 0;
  }

  /**
   * Single node only: at start-up no lease can be held by a live sender. In a cluster another
   * node's leases are live: there the lapse alone gives a dead node's deliveries to another.
   */
  async releaseAllLeases(): Promise<number> {
    return this.db.run('UPDATE deliveries SET lease_until = NULL, lease_holder = NULL WHERE lease_until IS NOT NULL');
  }

  async get(id: number): Promise<Delivery | undefined> {
    const row = await this.db.row<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1', [id]);
    return row && toDelivery(row);
  }

  /** Newest first. */
  async list(q: { state?: DeliveryState; eventId?: string; limit?: number } = {}): Promise<Delivery[]> {
    return (await this.db.rows<DeliveryRow>(`SELECT * FROM deliveries WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR event_id = $2)
      ORDER BY id DESC LIMIT $3`, [q.state || null, q.eventId || null, q.limit ?? 100])).map(toDelivery);
  }

  /** A failed or dead delivery is due again now, with a new horizon (`fluxgate deliveries retry`). */
  async retry(id: number, at = Date.now()): Promise<Delivery> {
    return this.db.transaction(async (tx) => {
      const row = await tx.row<DeliveryRow>('SELECT * FROM deliveries WHERE id = $1 FOR UPDATE', [id]);
      if (!row) throw new FluxgateError('FG_DELIVERY_NOT_FOUND', `no delivery ${id}: see \`fluxgate deliveries list\``, { delivery: id });
      if (row.state !== 'failed' && row.state !== 'dead') {
        throw new FluxgateError('FG_DELIVERY_STATE', `delivery ${id} is ${row.state}: only a failed or dead delivery is retried`, { delivery: id, state: row.state });
      }
      const updated = await tx.row<DeliveryRow>(`UPDATE deliveries SET state = 'pending', due_at = $2, retry_from = $2, updated_at = $2,
        lease_until = NULL, lease_holder = NULL WHERE id = $1 RETURNING *`, [id, at]);
      return toDelivery(updated!);
    });
  }
}
