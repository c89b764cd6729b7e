import { toStoredEvent, type EventRow, type NewEvent, type StoredEvent } from '../event-types';
import type { EventQuery, EventRepository, PlannedDelivery } from '../ports/events';
import { recordEvent } from './event-outbox';
import type { PgPool } from './pool';

/** The outbox's read side in PostgreSQL: listing events, and routing them (once, whichever node routes). */
export class PostgresEventRepository implements EventRepository {
  constructor(private readonly db: PgPool) {}

  async record(event: NewEvent): Promise<string> { return recordEvent(this.db, event); }

  async get(id: string): Promise<StoredEvent | undefined> {
    const row = await this.db.row<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
    return row && toStoredEvent(row);
  }

  /** Matching events, oldest first (the most recent `limit` of them). */
  async list(q: EventQuery = {}): Promise<StoredEvent[]> {
    // `file.*` names a family of types (LIKE 'file.%'; a type has no other wildcard character).
    const type = q.type === undefined ? null : q.type.endsWith('.*') ? { like: `${q.type.slice(0, -1)}%` } : { is: q.type };
    const rows = await this.db.rows<EventRow>(`SELECT * FROM events
      WHERE ($1::bigint IS NULL OR at >= $1) AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR type LIKE $3)
        AND ($4::text IS NULL OR account_id = $4)
      ORDER BY at DESC, seq DESC LIMIT $5`,
    [q.since ?? null, type?.is ?? null, type?.like ?? null, q.account ?? null, q.limit ?? 100]);
    return rows.reverse().map(toStoredEvent);
  }

  /** Events not routed yet, in order. */
  async unrouted(limit = 100): Promise<StoredEvent[]> {
    return (await this.db.rows<EventRow>('SELECT * FROM events WHERE NOT routed ORDER BY seq LIMIT $1', [limit])).map(toStoredEvent);
  }

  /**
   * Makes the events' deliveries and marks them routed, in one transaction. Idempotent (one row
   * per event × subscription, ON CONFLICT DO NOTHING): two nodes routing the same event at once
   * make each delivery once.
   */
  async route(routes: Array<{ event: StoredEvent; deliveries: PlannedDelivery[] }>, at = Date.now()): Promise<void> {
    if (routes.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const { event, deliveries } of routes) {
        for (const d of deliveries) {
          await tx.run(`INSERT INTO deliveries (event_id, subscription, channel, due_at, retry_from, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $5, $5) ON CONFLICT (event_id, subscription) DO NOTHING`, [event.event.id, d.subscription, d.channel, d.dueAt, at]);
        }
        await tx.run('UPDATE events SET routed = TRUE WHERE seq = $1', [event.seq]);
      }
    });
  }
}
