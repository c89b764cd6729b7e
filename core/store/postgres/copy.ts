import { existsSync } from 'node:fs';
import type { ClientBase } from 'pg';
import type { DataPaths } from '../../config/paths';
import { redactStoreUrl } from '../../config/store-url';
import { FluxgateError, isFluxgateError } from '../../errors';
import { DataDirLock } from '../data-dir-lock';
import { openDatabase, type Database } from '../database';
import { connectPostgres } from './connect';
import { planCopy, type TableCopy } from './copy-plan';
import { migratePostgres, type MigrationResult } from './migrate';

/** Key of the transaction advisory lock of a copy: two copies into one database do not interleave. */
const COPY_LOCK_KEY = 0x666c7578_02; // "flux", 2
/** PostgreSQL takes at most 65,535 parameters per statement; smaller batches keep memory flat. */
const MAX_PARAMETERS = 60_000;
const MAX_BATCH_ROWS = 1000;

export interface CopyReport {
  /** The target, without its password. */
  to: string;
  /** The schema migrations applied to the target first. */
  migrated: MigrationResult['applied'];
  version: number;
  /** Rows per table, as counted in both stores after the copy (equal, or the copy is rolled back). */
  tables: Array<{ table: string; rows: number }>;
  totalRows: number;
}

/**
 * `fluxgate store copy --to postgres://…`: every table of the install's SQLite database into an
 * empty PostgreSQL database, migrated first, in one transaction (a failure leaves it as it
 * was), then the row counts of both compared.
 *
 * Consistency: the copy takes the data directory's lock (core/store/data-dir-lock.ts), so it
 * refuses while a server runs on it and no server starts before it ends; it also reads SQLite
 * in one read transaction (one snapshot), so a CLI command that writes meanwhile is either
 * wholly in the copy or wholly out of it.
 */
export async function copySqliteToPostgres(paths: DataPaths, url: string): Promise<CopyReport> {
  if (!existsSync(paths.database)) {
    throw new FluxgateError('FG_DATA_DIR', `there is no fluxgate database at ${paths.database}: nothing to copy (give the install's data directory with --data-dir or dataDir)`, { database: paths.database });
  }
  const lock = DataDirLock.acquire(paths);
  let db: Database | undefined;
  let client: ClientBase & { end(): Promise<void> } | undefined;
  try {
    db = openDatabase(paths.database);
    client = await connectPostgres(url, { application_name: 'fluxgate store copy' });
    const migration = await migratePostgres(client);
    checkVersions(db, migration.version);
    const tables = await copyInOneTransaction(db, client, url);
    return { to: redactStoreUrl(url), migrated: migration.applied, version: migration.version, tables, totalRows: tables.reduce((n, t) => n + t.rows, 0) };
  } finally {
    await client?.end().catch(() => {});
    db?.close();
    lock.release();
  }
}

/** SQLite migrations the PostgreSQL schema does not have: their tables or columns would be missing there. */
function checkVersions(db: Database, pgVersion: number): void {
  const { version } = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number };
  if (version > pgVersion) {
    throw new FluxgateError('FG_STORE_SCHEMA', `the SQLite database is at schema version ${version} and the PostgreSQL schema only reaches ${pgVersion}: a PostgreSQL migration is missing (core/store/postgres/migrations); nothing was copied`,
      { sqliteVersion: version, postgresVersion: pgVersion });
  }
}

async function copyInOneTransaction(db: Database, pg: ClientBase, url: string): Promise<CopyReport['tables']> {
  await pg.query('BEGIN');
  db.exec('BEGIN'); // one read snapshot of every table
  try {
    await pg.query('SELECT pg_advisory_xact_lock($1)', [COPY_LOCK_KEY]);
    await refuseNonEmpty(pg, url);
    const plans = await planCopy(db, pg);
    const counts: CopyReport['tables'] = [];
    for (const plan of plans) counts.push({ table: plan.table, rows: await copyTable(db, pg, plan) });
    await resetIdentities(db, pg);
    for (const { table, rows } of counts) {
      const copied = Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(table)}`)).rows[0].n);
      if (copied !== rows) {
        throw new FluxgateError('FG_STORE_COPY', `table ${table}: SQLite holds ${rows} rows but PostgreSQL ${copied} after the copy; rolled back, nothing was written`, { table, sqlite: rows, postgres: copied });
      }
    }
    await pg.query('COMMIT');
    return counts;
  } catch (err) {
    await pg.query('ROLLBACK').catch(() => {});
    if (isFluxgateError(err)) throw err;
    throw new FluxgateError('FG_STORE_COPY', `the copy to ${redactStoreUrl(url)} failed and was rolled back, nothing was written: ${(err as Error).message}`,
      { cause: (err as { code?: string }).code, table: (err as { table?: string }).table }, { cause: err });
  } finally {
    db.exec('ROLLBACK');
  }
}

/** Every table of the target but the migrations' bookkeeping must be empty: a copy never merges. */
async function refuseNonEmpty(pg: ClientBase, url: string): Promise<void> {
  const tables = (await pg.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name")).rows;
  const holding: string[] = [];
  for (const { table_name: table } of tables) {
    if ((await pg.query(`SELECT 1 FROM ${quote(table)} LIMIT 1`)).rowCount) holding.push(table);
  }
  if (holding.length > 0) {
    throw new FluxgateError('FG_STORE_NOT_EMPTY', `the PostgreSQL database ${redactStoreUrl(url)} is not empty (rows in ${holding.join(', ')}): store copy only fills an empty database, so nothing was copied. Give it a new database, or drop and recreate this one if its data is not wanted`,
      { tables: holding });
  }
}

/** Copies one table in batched multi-row INSERTs; returns how many rows SQLite had. */
async function copyTable(db: Database, pg: ClientBase, plan: TableCopy): Promise<number> {
  const cols = plan.columns.map(quote).join(', ');
  const select = db.prepare(`SELECT ${cols} FROM ${quote(plan.table)}`).raw(true).safeIntegers(true);
  const batchRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / plan.columns.length)));
  let batch: unknown[][] = [];
  let total = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const width = plan.columns.length;
    const tuples = batch.map((_, r) => `(${plan.columns.map((__, c) => `$${r * width + c + 1}`).join(', ')})`);
    await pg.query(`INSERT INTO ${quote(plan.table)} (${cols}) VALUES ${tuples.join(', ')}`, batch.flat());
    batch = [];
  };
  for (const row of select.iterate() as Iterable<unknown[]>) {
    batch.push(row.map((value, i) => convert(value, plan.booleans[i])));
    total++;
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  return total;
}

/** A SQLite value as PostgreSQL takes it: 0/1 as a boolean where the column is one, integers exactly (as text). */
function convert(value: unknown, boolean: boolean): unknown {
  if (value === null) return null;
  if (boolean) return typeof value === 'bigint' ? value !== 0n : Boolean(value);
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Moves each identity column's sequence past the copied ids, and past SQLite's sqlite_sequence
 * for AUTOINCREMENT tables (whose ids are never reused, even those of deleted rows).
 */
async function resetIdentities(db: Database, pg: ClientBase): Promise<void> {
  const hasSequences = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get() !== undefined;
  const identities = (await pg.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'")).rows;
  for (const { table_name: table, column_name: column } of identities) {
    const used = hasSequences ? (db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').safeIntegers(true).get(table) as { seq: bigint } | undefined)?.seq ?? 0n : 0n;
    await pg.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE(MAX(${quote(column)}), 0), $3::bigint, 1), COALESCE(MAX(${quote(column)}), 0) > 0 OR $3::bigint > 0) FROM ${quote(table)}`,
      [table, column, used.toString()]);
  }
}

/** An SQL identifier, quoted (table and column names come from sqlite_master). */
function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
