import { randomUUID } from 'node:crypto';
import type { Database } from './database';
import type { NewEvent } from './event-types';
import { statement } from './statements';

/**
 * The write side of the outbox in SQLite: one INSERT on the caller's connection, synchronous,
 * so an event recorded inside a repository's transaction commits or rolls back with the change
 * that caused it (a crash never loses one nor invents one). Internal to core/store: callers see
 * the units of work of the repositories (core/store/ports).
 */
export class SqliteEventOutbox {
  constructor(private readonly db: Database) {}

  /** Returns the event's id. */
  record(e: NewEvent): string {
    const at = e.at ?? Date.now();
    const id = newEventId(at);
    statement(this.db, `INSERT INTO events (id, type, at, account_id, file_id, flux, name, code, summary, data)
      VALUES (@id, @type, @at, @account, @fileId, @flux, @name, @code, @summary, @data)`).run({
      id, type: e.type, at, account: e.account ?? null, fileId: e.fileId ?? null, flux: e.flux ?? null, name: e.name ?? null,
      code: e.code ?? null, summary: e.summary ?? null, data: JSON.stringify(e.data ?? {}),
    });
    return id;
  }
}

/** Sortable, readable ids, like the journal's: `evt_<yyyymmddhhmmss>_<12 hex>`. */
export function newEventId(at = Date.now()): string {
  const stamp = new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `evt_${stamp}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}
