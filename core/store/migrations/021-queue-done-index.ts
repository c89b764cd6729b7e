import type { Migration } from './types';

/**
 * The housekeeping job deletes `done` queue jobs older than `retention.queueDoneDays`, oldest
 * first, a chunk at a time: this partial index holds only those rows (the live ones have
 * queue_ready), so each chunk reads its rows in order instead of scanning the table. Events are
 * found by `events_at` (at, seq) and their deliveries by the unique (event_id, subscription).
 */
export const queueDoneIndexMigration: Migration = {
  version: 21,
  name: 'queue-done-index',
  sql: `
    CREATE INDEX queue_done ON queue (updated_at, id) WHERE state = 'done';
  `,
};
