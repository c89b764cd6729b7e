import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parseJson } from '../helpers/json';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { MIGRATIONS } from '../../core/store/migrations';
import { SqliteBanRepository } from '../../core/store/bans-repository';
import { SqliteCronRepository } from '../../core/store/cron-repository';
import { openDatabase } from '../../core/store/database';
import { addAccount, FIXTURES, uploadAndWait, uploadOrganizations } from './fixtures-support';

// `fluxgate store copy --to postgres://…` moves a real single-node install: a server receives
// files over OpenSSH sftp (journal, events, receipts and reports, the directory), operators,
// tokens and a retention run are added, the server stops, and the copy lands in a private
// PostgreSQL with the same row counts and values.
const skip = skipUnless('sftp', 'ssh-keygen', 'postgres');
let server: TestServer;
let key: TestKey;
let target: TestDatabase;
let sqliteCounts: Record<string, number>;

interface CopyJson { to: string; migrated: Array<{ version: number }>; version: number; tables: Array<{ table: string; rows: number }>; totalRows: number }

/** Row counts of every table of the install's SQLite database (SQLite's own and the migrations' bookkeeping aside). */
function countSqlite(file: string): Record<string, number> {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    // account_changes (migration 018) is each engine's own, as schema_migrations is: not copied.
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'account_changes')").all() as Array<{ name: string }>).map((r) => r.name);
    return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

function sqliteRows<T>(sql: string): T[] {
  const db = new BetterSqlite3(join(server.dataDir, 'fluxgate.db'), { readonly: true });
  try { return db.prepare(sql).all() as T[]; } finally { db.close(); }
}

/** 02:00 UTC: the instant a scheduled run was fired for. */
const SCHEDULED_SLOT = Date.UTC(2026, 11, 7, 2, 0);

before(async () => {
  if (skip) return;
  target = await freshDatabase();
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'acme');
  await uploadOrganizations(server, 'acme', key);
  for (const name of ['ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv', 'ndmat_acme_acme_usr_hrmanager_v6_261120091000.csv']) {
    const file = await uploadAndWait(server, 'acme', key, join(FIXTURES, 'exchange', name), `in/${name.split('_')[3]}/`);
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
  }
  // A file with row errors: its report lists them (uploadAndWait waits for a final state).
  await uploadAndWait(server, 'acme', key, join(FIXTURES, 'bad', 'ndmat_acme_acme_sal_hrmanager_v6_261120093000.csv'), 'in/sal/');
  const operator = await server.cliWithInput('a long enough pass phrase\n', 'admin', 'add', 'alice', '--role', 'admin', '--password-stdin');
  assert.equal(operator.code, 0, operator.stderr);
  assert.equal((await server.cli('token', 'create', '--name', 'ci', '--role', 'viewer')).code, 0);
  // A retention run 100 days on: archives deleted, each with its tombstone; a cron_runs row.
  const retention = await server.cli('jobs', 'run', 'retention', '--at', '+100d', '--json');
  assert.equal(retention.code, 0, retention.stderr);
});
after(async () => {
  await server?.cleanup();
  await target?.drop();
});

test('store copy is refused while the server runs on the data directory, and touches nothing', { skip }, async () => {
  const r = await server.cli('store', 'copy', '--to', target.url, '--json');
  assert.equal(r.code, 1);
  assert.equal(parseJson<{ error: { code: string } }>(r.stderr.trim().split('\n').pop()!).error.code, 'FG_DATA_DIR_LOCKED');
  assert.deepEqual(await target.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"), []);
});

test('store copy moves every table of the stopped install, with the same counts and values', { skip }, async () => {
  await server.stop();
  // A brute-force ban, as the SFTP server writes one after failed logins: the bans table has a row to copy.
  const db = openDatabase(join(server.dataDir, 'fluxgate.db'));
  try {
    await new SqliteBanRepository(db).ban({ address: '203.0.113.7', bannedAt: Date.now(), until: Date.now() + 600_000, user: 'intruder', nodeId: 'node-a' });
    // A scheduled run, as the server's scheduler records one: its slot (migration 019) is copied too.
    const scheduled = await new SqliteCronRepository(db).begin('key-expiry', SCHEDULED_SLOT, SCHEDULED_SLOT + 40, SCHEDULED_SLOT);
    await new SqliteCronRepository(db).finish(scheduled.id, 'ok', {}, null, SCHEDULED_SLOT + 50);
  } finally {
    db.close();
  }
  sqliteCounts = countSqlite(join(server.dataDir, 'fluxgate.db'));
  for (const table of ['accounts', 'account_keys', 'files', 'file_events', 'outputs', 'dir_organizations', 'dir_employees', 'dir_users',
    'events', 'deliveries', 'operators', 'api_tokens', 'audit_log', 'tombstones', 'cron_runs', 'queue', 'nodes', 'bans']) {
    // Not the deliveries (no subscription here): the others prove the install really used them.
    if (table !== 'deliveries') assert.ok(sqliteCounts[table] > 0, `the install has ${table} rows to copy`);
  }

  const r = await server.cli('store', 'copy', '--to', target.url, '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = parseJson<CopyJson>(r.stdout);
  assert.deepEqual(Object.fromEntries(report.tables.map((t) => [t.table, t.rows])), sqliteCounts, 'every table, with SQLite\'s counts');
  assert.equal(report.totalRows, Object.values(sqliteCounts).reduce((a, b) => a + b, 0));
  assert.deepEqual([report.migrated.length, report.version], [MIGRATIONS.length, MIGRATIONS[MIGRATIONS.length - 1].version]);
  assert.ok(!r.stdout.includes(new URL(target.url).password), 'the password is not printed');
  // What PostgreSQL holds now, counted there.
  for (const [table, rows] of Object.entries(sqliteCounts)) {
    const [{ n }] = await target.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    assert.equal(Number(n), rows, table);
  }

  // Values as they were: times in epoch ms, 0/1 as booleans, canonical JSON byte for byte.
  const [account] = sqliteRows<{ created_at: number; enabled: number; options: string }>("SELECT created_at, enabled, options FROM accounts WHERE id = 'acme'");
  assert.deepEqual(await target.query("SELECT created_at::text AS created_at, enabled, options FROM accounts WHERE id = 'acme'"),
    [{ created_at: String(account.created_at), enabled: account.enabled === 1, options: account.options }]);
  const employees = sqliteRows<{ registration_reference: string; data: string; active: number }>('SELECT registration_reference, data, active FROM dir_employees ORDER BY registration_reference');
  const copied = await target.query<{ registration_reference: string; data: string; active: boolean }>('SELECT registration_reference, data, active FROM dir_employees ORDER BY registration_reference');
  assert.deepEqual(copied, employees.map((e) => ({ ...e, active: e.active === 1 })));
  assert.deepEqual((await target.query<{ active: boolean }>('SELECT active FROM dir_employees WHERE NOT active')).length, 2, 'the two leavers of the sal fixture');
  const files = sqliteRows<{ id: string; state: string; receipt_path: string | null; client_address: string | null; client_fingerprint: string | null }>(
    'SELECT id, state, receipt_path, client_address, client_fingerprint FROM files ORDER BY id');
  assert.ok(files.some((f) => f.client_address === '127.0.0.1' && f.client_fingerprint?.startsWith('SHA256:')), 'the OpenSSH uploads have their client');
  assert.deepEqual(await target.query('SELECT id, state, receipt_path, client_address, client_fingerprint FROM files ORDER BY id'), files);

  // Sequences past the copied ids: the next row PostgreSQL numbers does not collide.
  assert.deepEqual(await target.query("SELECT slot::text AS slot, host, pid FROM cron_runs WHERE job = 'key-expiry'"),
    sqliteRows<{ slot: number; host: string; pid: number }>("SELECT slot, host, pid FROM cron_runs WHERE job = 'key-expiry'").map((r) => ({ ...r, slot: String(r.slot) })));
  assert.deepEqual((await target.query<{ slot: string }>("SELECT slot::text AS slot FROM cron_runs WHERE job = 'key-expiry'")).map((r) => Number(r.slot)), [SCHEDULED_SLOT]);
  const [{ max }] = sqliteRows<{ max: number }>('SELECT MAX(id) AS max FROM file_events');
  const [next] = await target.query<{ id: string }>("INSERT INTO file_events (file_id, at, type) VALUES ($1, 0, 'test') RETURNING id", [files[0].id]);
  assert.ok(Number(next.id) > max, `new id ${next.id} > ${max}`);
  const [{ seq }] = sqliteRows<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
  const [event] = await target.query<{ seq: string }>("INSERT INTO events (id, type, at) VALUES ('test', 'test', 0) RETURNING seq");
  assert.equal(Number(event.seq), seq + 1, 'events.seq continues after SQLite\'s AUTOINCREMENT');
});

test('a second copy into the same (now non-empty) database is refused: FG_STORE_NOT_EMPTY', { skip }, async () => {
  const before = await target.query<{ n: string }>('SELECT count(*) AS n FROM files');
  const r = await server.cli('store', 'copy', '--to', target.url);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not empty \(rows in .*files.*\): store copy only fills an empty database, so nothing was copied.*\[FG_STORE_NOT_EMPTY\]/);
  assert.deepEqual(await target.query('SELECT count(*) AS n FROM files'), before);
});

test('store copy prints each table and its rows, and says the counts match', { skip }, async () => {
  const other = await freshDatabase();
  try {
    const r = await server.cli('store', 'copy', '--to', other.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^applied {2}001 core$/m);
    assert.match(r.stdout, /^TABLE\s+ROWS$/m);
    for (const [table, rows] of Object.entries(sqliteCounts)) assert.match(r.stdout, new RegExp(`^${table}\\s+${rows}$`, 'm'));
    assert.match(r.stdout, /^copied \d+ rows in \d+ tables to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/fg_test_\w+; the counts match$/m);
  } finally {
    await other.drop();
  }
});
