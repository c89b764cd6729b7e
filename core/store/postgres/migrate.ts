import type { ClientBase } from 'pg';
import { FluxgateError } from '../../errors';
import type { Migration } from '../migrations/types';
import { PG_MIGRATIONS } from './migrations';

/**
 * Key of the session advisory lock taken while migrating: nodes (and `store migrate` runs) that
 * start together apply the schema one at a time, the later ones finding it done.
 */
export const MIGRATION_LOCK_KEY = 0x666c7578_01; // "flux", 1

export interface MigrationResult {
  /** The migrations this run applied, in order (none: the schema was up to date). */
  applied: Array<{ version: number; name: string }>;
  /** The schema version afterwards. */
  version: number;
}

/** Brings a PostgreSQL database's schema up to date, each migration in its own transaction. */
export async function migratePostgres(client: ClientBase, migrations: readonly Migration[] = PG_MIGRATIONS): Promise<MigrationResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    // Under the lock: two first runs creating it at once would collide in the catalogue.
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: MigrationResult['applied'] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (err as { code?: string }).code;
        // 42501: insufficient_privilege (PostgreSQL 15 lets only the owner create in schema public).
        const hint = code === '42501' ? ' The role in store.url must own the database (CREATE DATABASE … OWNER …; docs/cluster.md).' : '';
        throw new FluxgateError('FG_STORE', `PostgreSQL refused schema migration ${m.version} (${m.name}): ${(err as Error).message}; nothing of it was applied.${hint}`,
          { version: m.version, migration: m.name, cause: code }, { cause: err });
      }
      applied.push({ version: m.version, name: m.name });
    }
    return { applied, version: Math.max(0, ...migrations.map((m) => m.version), ...done) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
