import type { Migration } from './types';

/**
 * Events and notifications (issue #22):
 * - `events`: the durable outbox, written in the transaction of the state change that causes
 *   each event (journal transitions, account and key changes, expectations). `seq` orders them;
 *   `routed` is set once the dispatcher has made the event's deliveries.
 * - `deliveries`: one row per event × subscription (unique), leased by the dispatcher while it
 *   sends (a crash lets the lease lapse: the delivery is sent again), retried with backoff until
 *   `retry_from` + the horizon, then `dead` (re-deliverable by `fluxgate deliveries retry`).
 * - `expectation_periods`: per expectation and period (keyed by its deadline) when each of its
 *   events was raised (so each is raised once, whichever node evaluates) and its acknowledgement.
 */
export const eventsMigration: Migration = {
  version: 12,
  name: 'events',
  sql: `
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      at INTEGER NOT NULL,
      account_id TEXT,
      file_id TEXT,
      flux TEXT,
      name TEXT,
      code TEXT,
      summary TEXT,
      data TEXT NOT NULL DEFAULT '{}',
      routed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX events_at ON events (at, seq);
    CREATE INDEX events_type_at ON events (type, at, seq);
    CREATE INDEX events_unrouted ON events (seq) WHERE routed = 0;

    CREATE TABLE deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id TEXT NOT NULL REFERENCES events (id),
      subscription TEXT NOT NULL,
      channel TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0,
      due_at INTEGER NOT NULL,
      retry_from INTEGER NOT NULL,
      lease_until INTEGER,
      lease_holder TEXT,
      last_status INTEGER,
      last_error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      delivered_at INTEGER,
      UNIQUE (event_id, subscription)
    );
    CREATE INDEX deliveries_due ON deliveries (due_at, id) WHERE state IN ('pending', 'failed');
    CREATE INDEX deliveries_state ON deliveries (state, id);

    CREATE TABLE expectation_periods (
      expectation TEXT NOT NULL,
      deadline INTEGER NOT NULL,
      late_at INTEGER,
      missed_at INTEGER,
      recovered_at INTEGER,
      acknowledged_at INTEGER,
      acknowledged_by TEXT,
      PRIMARY KEY (expectation, deadline)
    );
  `,
};
