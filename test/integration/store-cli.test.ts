import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run, type RunResult } from '../helpers/clients';
import { freePort } from '../helpers/haproxy';
import { parseJson } from '../helpers/json';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { MIGRATIONS } from '../../core/store/migrations';

// `fluxgate store migrate` / `store copy` and store.url, through the real CLI against a real
// PostgreSQL (a database per test, test/helpers/postgres.ts). The end-to-end copy of a real
// install is test/e2e/store-copy.test.ts.
const skip = skipUnless('postgres');
/** How many migrations there are, and the version they end at (both engines have the same). */
const COUNT = MIGRATIONS.length;
const LATEST = MIGRATIONS[MIGRATIONS.length - 1].version;
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const made: string[] = [];
const databases: TestDatabase[] = [];
after(async () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  for (const db of databases) await db.drop();
});

interface MigrateJson { engine: string; target: string; applied: Array<{ version: number; name: string }>; version: number }

/** A config file and data directory, with `store` written into the file when given. */
function install(store?: Record<string, unknown>): { cli: (args: string[], env?: NodeJS.ProcessEnv) => Promise<RunResult>; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-store-cli-'));
  made.push(dir);
  const dataDir = join(dir, 'var');
  const configFile = join(dir, 'fluxgate.yaml');
  writeFileSync(configFile, stringify({ dataDir, environment: 'test', http: { port: 0 }, ...(store ? { store } : {}) }));
  return { dataDir, cli: (args, env = {}) => run(process.execPath, [BIN, '--config', configFile, ...args], { cwd: dir, env }) };
}

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  databases.push(db);
  return db;
}

function jsonError(r: RunResult): { code: string; message: string } {
  const lines = r.stderr.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]) as { error: { code: string; message: string } }).error;
}

/** The password of a URL, which no output may show. */
const passwordOf = (url: string): string => decodeURIComponent(new URL(url).password);

describe('fluxgate store', { concurrency: true }, () => {
  test('store migrate on SQLite applies every migration once, then nothing', async () => {
    const { cli, dataDir } = install();
    const first = await cli(['store', 'migrate', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const applied = parseJson<MigrateJson>(first.stdout);
    assert.deepEqual([applied.engine, applied.target, applied.applied.length, applied.version], ['sqlite', join(dataDir, 'fluxgate.db'), COUNT, LATEST]);
    assert.deepEqual(applied.applied[0], { version: 1, name: 'core' });
    const again = await cli(['store', 'migrate']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `sqlite store ${join(dataDir, 'fluxgate.db')}: schema at version ${LATEST}, already up to date\n`);
  });

  test('store migrate on PostgreSQL (FLUXGATE_STORE_URL) is idempotent, and two runs at once both succeed', { skip }, async () => {
    const db = await database();
    const { cli } = install();
    const env = { FLUXGATE_STORE_URL: db.url };
    const [a, b] = await Promise.all([cli(['store', 'migrate', '--json'], env), cli(['store', 'migrate', '--json'], env)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const results = [parseJson<MigrateJson>(a.stdout), parseJson<MigrateJson>(b.stdout)];
    // The advisory lock: one run applied them all, the other found them done (never a half each, never an error).
    assert.deepEqual(results.map((r) => r.applied.length).sort((x, y) => x - y), [0, COUNT]);
    assert.ok(results.every((r) => r.engine === 'postgres' && r.version === LATEST));
    assert.equal(results[0].target, db.url.replace(`:${new URL(db.url).password}@`, ':***@'));
    assert.ok(!a.stdout.includes(passwordOf(db.url)) && !b.stdout.includes(passwordOf(db.url)), 'no password in the output');
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    const third = await cli(['store', 'migrate'], env);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, new RegExp(`^postgres store postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/fg_test_\\w+: schema at version ${LATEST}, already up to date\n$`));
  });

  test('store.url must be postgres:// or postgresql://: config check says where, without the URL', async () => {
    const { cli } = install({ url: 'mysql://fluxgate:s3cret-pw@db.example:3306/fluxgate' });
    const r = await cli(['config', 'check', '--json']);
    assert.equal(r.code, 1);
    const check = parseJson<{ valid: boolean; problems: Array<{ key?: string; message: string }> }>(r.stdout);
    assert.equal(check.valid, false);
    assert.equal(check.problems[0].key, 'store.url');
    assert.match(check.problems[0].message, /the scheme "mysql:" is not one fluxgate stores in: use postgres:\/\/ or postgresql:\/\//);
    const refused = await cli(['account', 'list']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FG_CONFIG/);
    for (const out of [r.stdout, r.stderr, refused.stderr]) assert.ok(!out.includes('s3cret-pw'), `no password in ${out}`);
    const viaEnv = await install().cli(['config', 'check', '--json'], { FLUXGATE_STORE_URL: 'postgresql://u:pw@host/db' });
    const overrides = parseJson<{ valid: boolean; environment: Array<{ variable: string; key: string }> }>(viaEnv.stdout).environment;
    assert.equal(overrides.find((o) => o.variable === 'FLUXGATE_STORE_URL')?.key, 'store.url');
  });

  test('serve and the store\'s commands refuse a PostgreSQL store.url (FG_STORE_UNSUPPORTED), naming it without its password', async () => {
    const url = 'postgres://fluxgate:s3cret-pw@127.0.0.1:5432/fluxgate';
    const { cli, dataDir } = install({ url });
    const serve = await cli(['serve', '--port', '0', '--json']);
    assert.equal(serve.code, 1);
    const error = jsonError(serve);
    assert.equal(error.code, 'FG_STORE_UNSUPPORTED');
    assert.match(error.message, /serving on PostgreSQL is not built yet: `fluxgate store migrate` and `fluxgate store copy` are/);
    assert.match(error.message, /postgres:\/\/fluxgate:\*\*\*@127\.0\.0\.1:5432\/fluxgate/);
    const list = await cli(['account', 'list']);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /this command on PostgreSQL is not built yet.*\[FG_STORE_UNSUPPORTED\]/);
    for (const out of [serve.stdout, serve.stderr, list.stdout, list.stderr]) assert.ok(!out.includes('s3cret-pw'));
    // Refused before it touched anything: no SQLite file, no lock, beside the configured PostgreSQL.
    assert.equal(existsSync(dataDir), false);
  });

  test('clear codes: wrong password, no such database, nothing listening, not a postgres:// URL', { skip }, async () => {
    const db = await database();
    const { cli } = install();
    const wrong = new URL(db.url);
    wrong.password = 'not-the-password';
    const auth = await cli(['store', 'migrate', '--json'], { FLUXGATE_STORE_URL: wrong.toString() });
    assert.equal(auth.code, 1);
    assert.equal(jsonError(auth).code, 'FG_STORE_AUTH');
    assert.ok(!auth.stderr.includes('not-the-password'), 'the password is not repeated');
    const missing = await cli(['store', 'migrate', '--json'], { FLUXGATE_STORE_URL: db.urlOf('no_such_database') });
    assert.equal(jsonError(missing).code, 'FG_STORE_NO_DATABASE');
    assert.match(jsonError(missing).message, /create it first/);
    const closed = new URL(db.url);
    closed.port = String(await freePort());
    const unreachable = await cli(['store', 'migrate', '--json'], { FLUXGATE_STORE_URL: closed.toString() });
    assert.equal(jsonError(unreachable).code, 'FG_STORE_UNREACHABLE');
    assert.ok(!unreachable.stderr.includes(passwordOf(db.url)));
    const badTarget = await cli(['store', 'copy', '--to', 'mysql://u:pw@host/db', '--json']);
    assert.equal(badTarget.code, 2);
    assert.equal(jsonError(badTarget).code, 'FG_USAGE');
    const noTarget = await cli(['store', 'copy', '--json']);
    assert.equal(noTarget.code, 2);
    assert.match(jsonError(noTarget).message, /no target: give --to postgres:\/\/.*or set store\.url/);
  });

  test('store copy without --to copies into store.url (the password stays off the command line)', { skip }, async () => {
    const db = await database();
    const { cli } = install();
    assert.equal((await cli(['store', 'migrate'])).code, 0, 'a new SQLite store');
    const r = await cli(['store', 'copy', '--json'], { FLUXGATE_STORE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const report = parseJson<{ to: string; tables: Array<{ table: string; rows: number }>; totalRows: number }>(r.stdout);
    assert.equal(report.to, db.url.replace(`:${new URL(db.url).password}@`, ':***@'));
    assert.equal(report.totalRows, 0);
    assert.ok(report.tables.some((t) => t.table === 'accounts'));
    assert.equal((await db.query('SELECT version FROM schema_migrations')).length, COUNT);
  });
});
