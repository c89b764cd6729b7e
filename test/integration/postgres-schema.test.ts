import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../core/store/database';
import { MIGRATIONS } from '../../core/store/migrations';
import { PG_MIGRATIONS } from '../../core/store/postgres/migrations';
import { migratePostgres } from '../../core/store/postgres/migrate';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { skipUnless } from '../helpers/tools';

// The PostgreSQL schema (core/store/postgres/migrations) against the SQLite one it mirrors, on a
// real PostgreSQL: same tables, columns, nullability and index names.
const skip = skipUnless('postgres');
let pg: TestDatabase;
let sqlite: Database;

before(async () => {
  sqlite = openDatabase(':memory:');
  if (skip) return;
  pg = await freshDatabase();
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try { await migratePostgres(client); } finally { await client.end(); }
});
after(async () => { sqlite?.close(); await pg?.drop(); });

test('every SQLite migration has its PostgreSQL twin, same version and name', () => {
  assert.deepEqual(PG_MIGRATIONS.map((m) => [m.version, m.name]), MIGRATIONS.map((m) => [m.version, m.name]));
});

test('the same tables with the same columns, NOT NULL where SQLite has it', { skip }, async () => {
  const sqliteTables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const pgColumns = await pg.query<{ table_name: string; column_name: string; is_nullable: string }>(
    'SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()');
  assert.deepEqual([...new Set(pgColumns.map((c) => c.table_name))].sort(), sqliteTables);
  for (const table of sqliteTables) {
    const columns = sqlite.prepare('SELECT name, "notnull" AS not_null, pk FROM pragma_table_info(?) ORDER BY name').all(table) as Array<{ name: string; not_null: number; pk: number }>;
    const theirs = pgColumns.filter((c) => c.table_name === table).sort((a, b) => a.column_name.localeCompare(b.column_name));
    // A primary key column is never null in PostgreSQL (SQLite only says so of a rowid alias implicitly).
    assert.deepEqual(theirs.map((c) => [c.column_name, c.is_nullable === 'NO']),
      columns.map((c) => [c.name, c.not_null === 1 || c.pk > 0]), `columns of ${table}`);
  }
});

test('every index SQLite has, by name, PostgreSQL has (constraint indexes aside)', { skip }, async () => {
  const sqliteIndexes = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const pgIndexes = (await pg.query<{ indexname: string }>(
    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' ORDER BY indexname")).map((r) => r.indexname);
  assert.deepEqual(pgIndexes, sqliteIndexes);
});
