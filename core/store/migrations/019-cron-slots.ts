import type { Migration } from './types';

/**
 * A scheduled job runs once per cluster per schedule (issue #20). `slot` is the scheduled instant
 * a run was fired for (epoch ms; null for a manual run, `fluxgate jobs run`): the unique index
 * lets one begin per job and slot, whichever node (or process) comes second, even after the
 * first run ended. `host` and `pid` say who ran it, for the message the late one logs.
 */
export const cronSlotsMigration: Migration = {
  version: 19,
  name: 'cron-slots',
  sql: `
    ALTER TABLE cron_runs ADD COLUMN slot INTEGER;
    ALTER TABLE cron_runs ADD COLUMN host TEXT;
    ALTER TABLE cron_runs ADD COLUMN pid INTEGER;
    CREATE UNIQUE INDEX cron_runs_slot ON cron_runs (job, slot) WHERE slot IS NOT NULL;
  `,
};
