import type { Migration } from '../../migrations/types';

/** SQLite's 021: the partial index of done queue jobs, by age, that the housekeeping job deletes from. */
export const pgQueueDoneIndexMigration: Migration = {
  version: 21,
  name: 'queue-done-index',
  sql: `
    CREATE INDEX queue_done ON queue (updated_at, id) WHERE state = 'done';
  `,
};
