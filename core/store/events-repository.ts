import type { Database } from './database';
import { SqliteEventOutbox } from './event-outbox';
import { toStoredEvent, type EventRow, type NewEvent, type StoredEvent } from './event-types';
import type { EventQuery, EventRepository, PlannedDelivery } from './ports/events';
import { statement } from './statements';

/**
 * The outbox's read side: listing events, and routing them (the dispatcher turns each new event
 * into its deliveries, once: `routed` is set in the same transaction).
 */
export class SqliteEventRepository implements EventRepository {
  private readonly outbox: SqliteEventOutbox;

  constructor(private readonly db: Database) {
    this.outbox = new SqliteEventOutbox(db);
  }

  async record(event: NewEvent): Promise<string> { return this.outbox.record(event); }

  async get(id: string): Promise<StoredEvent | undefined> {
    const row = statement(this.db, 'SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
    return row && toStoredEvent(row);
  }

  /** Matching events, oldest first (the most recent `limit` of them). */
  async list(q: EventQuery = {}): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit ?? 100 };
    if (q.since !== undefined) { where.push('at >= @since'); params.since = q.since; }
    if (q.type !== undefined) {
      // `file.*` names a family of types.
      if (q.type.endsWith('.*')) { where.push('type LIKE @type'); params.type = `${q.type.slice(0, -1)}%`; } else { where.push('type = @type'); params.type = q.type; }
    }
    if (q.account !== undefined) { where.push('account_id = @account'); params.account = q.account; }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, seq DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as EventRow[]).reverse().map(toStoredEvent);
  }

  /** Events not routed yet, in order. */
  async unrouted(limit = 100): Promise<StoredEvent[]> {
    return (statement(this.db, 'SELECT * FROM events WHERE routed = 0 ORDER BY seq LIMIT ?').all(limit) as EventRow[]).map(toStoredEvent);
  }

  /**
   * Makes the events' deliveries and marks them routed, in one transaction. Idempotent (one row
   * per event × subscription): two nodes routing the same event make each delivery once.
   */
  async route(routes: Array<{ event: StoredEvent; deliveries: PlannedDelivery[] }>, at = Date.now()): Promise<void> {
    this.db.transaction(() => {
      for (const { event, deliveries } of routes) {
        for (const d of deliveries) {
          statement(this.db, `INSERT OR IGNORE INTO deliveries (event_id, subscription, channel, due_at, retry_from, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)`).run(event.event.id, d.subscription, d.channel, d.dueAt, at, at, at);
        }
        statement(this.db, 'UPDATE events SET routed = 1 WHERE seq = ?').run(event.seq);
      }
    }).immediate();
  }
}
