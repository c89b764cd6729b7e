import type { Migration } from './types';

/**
 * Which process holds a queue lease (pid and host, set when it is leased), so that a command
 * run beside the server (`account remove`) can tell a live lease from one a crashed server left:
 * the lease itself only runs out after `engine.leaseMs` (5 minutes).
 */
export const leaseHolderMigration: Migration = {
  version: 8,
  name: 'lease-holder',
  sql: `
    ALTER TABLE queue ADD COLUMN leased_pid INTEGER;
    ALTER TABLE queue ADD COLUMN leased_host TEXT;
  `,
};
