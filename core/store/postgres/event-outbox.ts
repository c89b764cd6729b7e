import { newEventId } from '../event-outbox';
import type { NewEvent } from '../event-types';
import type { Queryable } from './pool';

/**
 * The outbox's write side in PostgreSQL: one INSERT on the caller's connection, so that an event
 * recorded inside a unit of work commits or rolls back with the change that caused it.
 */
export async function recordEvent(q: Queryable, e: NewEvent): Promise<string> {
  const at = e.at ?? Date.now();
  const id = newEventId(at);
  await q.run(`INSERT INTO events (id, type, at, account_id, file_id, flux, name, code, summary, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  [id, e.type, at, e.account ?? null, e.fileId ?? null, e.flux ?? null, e.name ?? null, e.code ?? null, e.summary ?? null, JSON.stringify(e.data ?? {})]);
  return id;
}
