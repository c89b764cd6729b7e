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
import { makeKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { until } from '../helpers/wait';
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
const servers: TestServer[] = [];
after(async () => {
  for (const server of servers) await server.cleanup();
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
    // The pool size goes with it, under the same short name.
    const pool = await install().cli(['config', 'check', '--json'], { FLUXGATE_STORE_POOL_SIZE: '3' });
    assert.equal(parseJson<{ environment: Array<{ variable: string; key: string }> }>(pool.stdout).environment.find((o) => o.variable === 'FLUXGATE_STORE_POOL_SIZE')?.key, 'store.poolSize');
    const badPool = await install({ poolSize: 0 }).cli(['config', 'check', '--json']);
    assert.equal(parseJson<{ problems: Array<{ key?: string }> }>(badPool.stdout).problems[0].key, 'store.poolSize');
  });

  test('a command on a PostgreSQL database nobody migrated says to run `fluxgate store migrate` (FG_STORE_NOT_MIGRATED), without the password', { skip }, async () => {
    const db = await database();
    const { cli, dataDir } = install({ url: db.url });
    const list = await cli(['account', 'list', '--json']);
    assert.equal(list.code, 1, list.stderr);
    const error = jsonError(list);
    assert.equal(error.code, 'FG_STORE_NOT_MIGRATED');
    assert.match(error.message, /does not have this fluxgate's schema .*: run `fluxgate store migrate` \(serve migrates at start\)/);
    assert.ok(!list.stderr.includes(passwordOf(db.url)), 'no password in the message');
    // `bans` too (its repository read the pool directly and printed PostgreSQL's raw error), with and without --json.
    for (const args of [['bans', '--json'], ['bans', 'remove', '203.0.113.7', '--json']]) {
      const r = await cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(jsonError(r).code, 'FG_STORE_NOT_MIGRATED', `${args.join(' ')}: ${r.stderr}`);
    }
    const text = await cli(['bans']);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stderr, /does not have this fluxgate's schema .*: run `fluxgate store migrate` .*\[FG_STORE_NOT_MIGRATED\]/);
    // Nothing migrated behind the operator's back, and no SQLite store made beside the configured PostgreSQL.
    assert.deepEqual(await db.query('SELECT tablename FROM pg_tables WHERE schemaname = \'public\''), []);
    assert.equal(existsSync(join(dataDir, 'fluxgate.db')), false);
  });

  test('serve runs on PostgreSQL (migrated at start) and the commands read and change the same store: account add and list, nodes, files', { skip }, async () => {
    const db = await database();
    const server = new TestServer({ config: { store: { url: db.url, poolSize: 4 }, cluster: { nodeId: 'pg-a' } } });
    servers.push(server);
    await server.start();
    const key = makeKey();
    const added = await server.cli('account', 'add', 'acme', '--key', key.publicPath, '--json');
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual((await db.query<{ id: string }>('SELECT id FROM accounts')).map((r) => r.id), ['acme'], 'the account is a row of PostgreSQL');
    const list = await server.cli('account', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(parseJson<Array<{ id: string }>>(list.stdout).map((a) => a.id), ['acme']);
    await until('the node is recorded', async () => (await db.query('SELECT id FROM nodes')).length === 1);
    const nodes = await server.cli('nodes', '--json');
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.deepEqual(parseJson<Array<{ id: string; state: string }>>(nodes.stdout).map((n) => [n.id, n.state]), [['pg-a', 'alive']]);
    const files = await server.cli('files', '--json');
    assert.equal(files.code, 0, files.stderr);
    assert.deepEqual(parseJson<unknown[]>(files.stdout), []);
    assert.equal(existsSync(join(server.dataDir, 'fluxgate.db')), false, 'no SQLite store beside the configured PostgreSQL');
    assert.equal(existsSync(join(server.dataDir, 'serve.lock')), false, 'the data directory is not locked: the nodes share it');
    await server.stop();
    const [node] = await db.query<{ stopped_at: number | null }>('SELECT stopped_at FROM nodes');
    assert.ok(node.stopped_at !== null, 'marked stopped: the stop path wrote before the pool ended');
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
    // serve too, before it listens (its node id's lock is the first thing it asks PostgreSQL for).
    const serve = await cli(['serve', '--json'], { FLUXGATE_STORE_URL: closed.toString() });
    assert.equal(serve.code, 1, serve.stderr);
    assert.equal(jsonError(serve).code, 'FG_STORE_UNREACHABLE');
    assert.ok(!serve.stdout.includes('"msg":"listening"') && !serve.stderr.includes(passwordOf(db.url)));
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
