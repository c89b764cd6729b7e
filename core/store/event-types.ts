/** The events of issue #22 as the store keeps them, and their public JSON shape (docs/events.md). */

export const EVENT_TYPES = [
  'file.received', 'file.processed', 'file.rejected', 'file.dead',
  'account.disabled', 'account.purged', 'key.expiring', 'key.expired', 'login.banned',
  'expectation.late', 'expectation.missed', 'expectation.recovered',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What a state change records in the outbox (the id and, unless given, the time are made on write). */
export interface NewEvent {
  type: EventType;
  at?: number;
  /** The account concerned (for login.banned: the user name that was tried). */
  account?: string | null;
  fileId?: string | null;
  flux?: string | null;
  /** The file's name, or the expectation's. */
  name?: string | null;
  /** An FG_… error code, when the event reports a failure. */
  code?: string | null;
  /** One line a person reads (the subject of a mail). */
  summary?: string | null;
  /** Type-specific details (docs/events.md lists them per type). */
  data?: Record<string, unknown>;
}

/** An event as webhooks receive it, `events list --json` prints it and the JSON Schemas describe it. */
export interface FluxgateEvent {
  id: string;
  type: EventType;
  /** ISO 8601, UTC. */
  time: string;
  account?: string;
  fileId?: string;
  flux?: string;
  name?: string;
  code?: string;
  summary?: string;
  data: Record<string, unknown>;
}

export interface StoredEvent {
  seq: number;
  event: FluxgateEvent;
  at: number;
}

export interface EventRow {
  seq: number; id: string; type: EventType; at: number; account_id: string | null; file_id: string | null;
  flux: string | null; name: string | null; code: string | null; summary: string | null; data: string; routed: number | boolean; // SQLite 0/1, PostgreSQL boolean
}

export function toStoredEvent(r: EventRow): StoredEvent {
  const event: FluxgateEvent = { id: r.id, type: r.type, time: new Date(r.at).toISOString(), data: JSON.parse(r.data) as Record<string, unknown> };
  if (r.account_id !== null) event.account = r.account_id;
  if (r.file_id !== null) event.fileId = r.file_id;
  if (r.flux !== null) event.flux = r.flux;
  if (r.name !== null) event.name = r.name;
  if (r.code !== null) event.code = r.code;
  if (r.summary !== null) event.summary = r.summary;
  return { seq: r.seq, at: r.at, event };
}
