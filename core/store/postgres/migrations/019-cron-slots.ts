import type { Migration } from '../../migrations/types';

/** SQLite's 019: the scheduled instant of a run, one run per job and slot across the cluster. */
export const pgCronSlotsMigration: Migration = {
  version: 19,
  name: 'cron-slots',
  sql: `
    ALTER TABLE cron_runs ADD COLUMN slot BIGINT;
    ALTER TABLE cron_runs ADD COLUMN host TEXT;
    ALTER TABLE cron_runs ADD COLUMN pid INTEGER;
    CREATE UNIQUE INDEX cron_runs_slot ON cron_runs (job, slot) WHERE slot IS NOT NULL;
  `,
};
