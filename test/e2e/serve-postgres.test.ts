import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DataPaths } from '../../core/config/paths';
import { PARAMIKO_CONNECT, python, run, sftpBatch } from '../helpers/clients';
import { parseJson } from '../helpers/json';
import type { TestKey } from '../helpers/keys';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { BIN, REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { addAccount, FIXTURES, reportLines, uploadAndWait, waitForFile, type FileView } from './fixtures-support';

// Issue #20: `serve` on PostgreSQL (store.url). Real servers, one real PostgreSQL database, one
// data directory shared by the nodes (as on NFS), OpenSSH sftp and paramiko. The journal, the
// directory and the nodes are read in PostgreSQL itself; the SQLite file is never made.
const skip = skipUnless('postgres', 'sftp', 'ssh-keygen', 'paramiko');
const EX = join(FIXTURES, 'exchange');
/** Probes ctx.directory.batch from its sandbox (test/fixtures/plugins/hostile.ts, `batch`). */
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'hostile.ts');

/** The built-in workflows and the probe's: sir and sal as shipped, the plugin's flux beside them. */
function workflows(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-wf-pg-'));
  for (const f of readdirSync(join(REPO_ROOT, 'workflows'))) if (f.endsWith('.yaml')) copyFileSync(join(REPO_ROOT, 'workflows', f), join(dir, f));
  writeFileSync(join(dir, 'probe.yaml'), stringify({
    flux: 'probe', match: { profile: 'exchange', directory: 'in/probe' }, naming: { extensions: ['csv'] },
    steps: ['handler', 'report', 'archive'], 'on-error': ['report', 'quarantine'],
  }));
  return dir;
}

interface NodeJson { id: string; state: string; address: string }

describe('serving from PostgreSQL', { skip }, () => {
  let db: TestDatabase;
  const root = mkdtempSync(join(tmpdir(), 'fg-pg-serve-'));
  /** The data directory every node shares. */
  const dataDir = join(root, 'shared');
  const paths = new DataPaths(dataDir);
  const workflowsDir = workflows();
  const servers: TestServer[] = [];
  let key: TestKey;

  /** A node on the shared PostgreSQL store and data directory, under its node id. */
  function node(nodeId: string): TestServer {
    const server = new TestServer({ config: {
      dataDir, store: { url: db.url, poolSize: 5 }, cluster: { nodeId }, engine: { watch: false },
      plugins: [PLUGIN], workflowsDir, pgp: { signReports: false }, http: { metricsPublic: true },
      // Every 2 s: each node's scheduler fires every slot, and one run per slot is recorded (once per cluster).
      jobs: { keyExpiry: { schedule: '*/2 * * * * *' } },
    } });
    servers.push(server);
    return server;
  }

  before(async () => { db = await freshDatabase(); });
  after(async () => {
    for (const s of servers) await s.cleanup();
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
    rmSync(workflowsDir, { recursive: true, force: true });
  });

  test('a node takes uploads by OpenSSH sftp and paramiko and processes them: journal, receipt, report and directory rows in PostgreSQL; `files` and `nodes` show them', async () => {
    const a = node('pg-a');
    await a.start();
    key = await addAccount(a, 'acme');

    // sir by OpenSSH sftp.
    const sir = await uploadAndWait(a, 'acme', key, join(EX, 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'), 'in/sir/');
    assert.equal(sir.state, 'processed', JSON.stringify(sir.outcome));
    // sal by paramiko.
    const salName = 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv';
    const put = await python(`${PARAMIKO_CONNECT}
sftp.put(sys.argv[4], '/in/sal/${salName}')
print('put OK')
`, [String(a.port), 'acme', key.privatePath, join(EX, salName)]);
    assert.match(put.stdout, /^put OK$/m, put.stdout + put.stderr);
    const sal = await waitForFile(a, 'acme', salName);
    assert.equal(sal.state, 'processed', JSON.stringify(sal.outcome));
    assert.deepEqual({ ...sal.outcome?.counts }, { created: 60, updated: 0, unchanged: 0, rejected: 0 });

    // In PostgreSQL itself: one journal row each, processed, with its receipt and report; the rows applied once.
    const rows = await db.query<{ id: string; name: string; state: string; attempts: number; receipt_path: string; report_path: string }>(
      'SELECT id, name, state, attempts, receipt_path, report_path FROM files ORDER BY received_at');
    assert.deepEqual(rows.map((r) => [r.name, r.state, r.attempts]),
      [['ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv', 'processed', 1], [salName, 'processed', 1]]);
    for (const r of rows) {
      assert.ok(existsSync(r.receipt_path), `the receipt of ${r.name} is on the shared data directory: ${r.receipt_path}`);
      assert.ok(existsSync(r.report_path), `the report of ${r.name}: ${r.report_path}`);
      const events = await db.query<{ type: string }>('SELECT type FROM file_events WHERE file_id = $1 ORDER BY id', [r.id]);
      assert.ok(events.some((e) => e.type === 'received') && events.some((e) => e.type === 'processed'), JSON.stringify(events));
    }
    assert.equal(reportLines(a, 'acme', sal).filter((l) => l.message === 'created').length, 60);
    const [orgs] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dir_organizations WHERE account_id = $1', ['acme']);
    const [employees] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dir_employees WHERE account_id = $1', ['acme']);
    assert.deepEqual([orgs.n, employees.n], [7, 60]);

    // The CLI on the same store.
    const files = parseJson<FileView[]>((await a.cli('files', '--json')).stdout);
    assert.deepEqual(files.map((f) => [f.name, f.state]).sort(), rows.map((r) => [r.name, r.state]).sort());
    await until('pg-a is recorded', async () => (await db.query('SELECT id FROM nodes')).length === 1, 15_000);
    const nodes = parseJson<NodeJson[]>((await a.cli('nodes', '--json')).stdout);
    assert.deepEqual(nodes.map((n) => [n.id, n.state, n.address]), [['pg-a', 'alive', `127.0.0.1:${a.port}`]]);
    // The operator plane on the same store: ready, and the metrics read from PostgreSQL.
    const ready = await fetch(`${a.httpUrl}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
    const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text();
    for (const flux of ['sir', 'sal']) assert.match(metrics, new RegExp(`^fluxgate_files\\{flux="${flux}",state="processed"\\} 1$`, 'm'), metrics.slice(0, 3000));
    assert.equal(existsSync(paths.database), false, 'no SQLite store on a PostgreSQL node');
  });

  test('a sandboxed plugin\'s ctx.directory writes to PostgreSQL (a batch applied, a failed one rolled back)', async () => {
    const [a] = servers;
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'probe'), { recursive: true });
    const name = 'ndmat_acme_acme_probe_261121100000.csv';
    const local = join(root, name);
    writeFileSync(local, 'batch\n');
    const file = await uploadAndWait(a, 'acme', key, local, 'in/probe/');
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    const batch = await db.query<{ registration_reference: string; lastname: string }>(
      'SELECT registration_reference, lastname FROM dir_employees WHERE account_id = $1 AND registration_reference LIKE $2 ORDER BY 1', ['acme', 'B%']);
    assert.deepEqual(batch.map((e) => [e.registration_reference, e.lastname]), [['B1', 'Batch-B1']], 'B1 written by the sandbox, B2 rolled back');
    assert.equal(existsSync(paths.database), false, 'the sandbox did not open a SQLite store either');
  });

  test('a second serve with the same node id is refused (FG_NODE_ID_TAKEN) before it serves; a killed node\'s id is free at once; a lost lock is taken again', async () => {
    const [a] = servers;
    const twin = node('pg-a');
    // The configured port (0) and a --json failure on stderr, as an operator would start it.
    const refused = await run(process.execPath, [BIN, '--config', twin.configFile, 'serve', '--json'], { cwd: twin.dir, timeoutMs: 30_000 });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const lines = refused.stderr.trim().split('\n');
    const { error } = JSON.parse(lines[lines.length - 1]) as { error: { code: string; message: string } };
    assert.equal(error.code, 'FG_NODE_ID_TAKEN');
    assert.match(error.message, /the node id "pg-a" is in use by another fluxgate server on the store postgres:\/\/[^@]*:\*\*\*@.* \(connected from 127\.0\.0\.1 since .*\): give this node its own cluster\.nodeId, or stop the other one first/);
    assert.ok(!refused.stderr.includes(new URL(db.url).password), 'no password in the refusal');
    assert.ok(!refused.stdout.includes('"msg":"listening"'), 'it never listened');
    // The running node kept its row: the refused one recorded nothing.
    assert.deepEqual((await db.query<{ id: string; pid: number }>('SELECT id, pid FROM nodes')).map((n) => [n.id, n.pid]), [['pg-a', a.pid]]);

    // SIGKILL: PostgreSQL ends the session, and the lock with it.
    await a.kill();
    await twin.start();
    const listening = twin.logs.find((l) => l.msg === 'listening');
    assert.equal(listening?.nodeId, 'pg-a');

    // The lock's connection cut (as by a database restart): said at error, and the lock taken again.
    const holding = 'SELECT pid FROM pg_stat_activity WHERE application_name = \'fluxgate node pg-a\'';
    const [session] = await db.query<{ pid: number }>(holding);
    await db.query('SELECT pg_terminate_backend($1)', [session.pid]);
    await twin.waitForLog((l) => l.component === 'node-lock' && /lock was lost/.test(String(l.msg)), 10_000);
    await twin.waitForLog((l) => l.component === 'node-lock' && /held again/.test(String(l.msg)), 15_000);
    const [again] = await db.query<{ pid: number }>(`SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
      WHERE a.application_name = 'fluxgate node pg-a' AND l.locktype = 'advisory' AND l.granted`);
    assert.ok(again && again.pid !== session.pid, 'a new session holds the node id\'s lock');
  });

  test('two nodes with other node ids on one PostgreSQL and one data directory both serve: an account added by the CLI logs in on both, and once disabled on neither; each scheduled run once', async () => {
    const a = servers[servers.length - 1]; // pg-a, restarted above
    const b = node('pg-b');
    await b.start();
    const globex = await addAccount(b, 'globex');
    for (const server of [a, b]) {
      const r = await sftpBatch(server.port, 'globex', globex.privatePath, ['ls in']);
      assert.equal(r.code, 0, `login on port ${server.port}: ${r.stderr}`);
      assert.match(r.stdout, /sal/);
    }
    await until('both nodes are alive', async () => {
      const r = await a.cli('nodes', '--json');
      return r.code === 0 && parseJson<NodeJson[]>(r.stdout).filter((n) => n.state === 'alive').length === 2;
    }, 15_000, 250);
    const nodes = parseJson<NodeJson[]>((await b.cli('nodes', '--json')).stdout);
    assert.deepEqual(nodes.map((n) => n.id).sort(), ['pg-a', 'pg-b']);
    assert.equal(existsSync(paths.serveLock), false, 'the shared data directory is not locked by either node');
    // Each scheduled run once per cluster: both nodes fire each slot, one begins it, the other is told FG_JOB_SLOT_TAKEN.
    const since = Date.now();
    await until('both nodes fired a slot the other ran', () => [a, b].every((n) => n.logs.some((l) => l.code === 'FG_JOB_SLOT_TAKEN' && Date.parse(String(l.slot)) >= since)), 20_000, 100);
    const twice = await db.query('SELECT slot, count(*)::int AS n FROM cron_runs WHERE job = $1 AND slot IS NOT NULL GROUP BY slot HAVING count(*) > 1', ['key-expiry']);
    assert.deepEqual(twice, [], 'no slot run twice');
    const [runs] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cron_runs WHERE job = $1 AND slot >= $2', ['key-expiry', since]);
    assert.ok(runs.n >= 2, `runs recorded: ${runs.n}`);
    for (const n of [a, b]) assert.deepEqual(n.logs.filter((l) => l.msg === 'scheduled run did not start'), [], 'no slot refused as an error');

    // Disabled on one node's CLI: refused at once on both.
    const disabled = await a.cli('account', 'disable', 'globex');
    assert.equal(disabled.code, 0, disabled.stderr);
    for (const server of [a, b]) {
      const r = await sftpBatch(server.port, 'globex', globex.privatePath, ['ls in']);
      assert.notEqual(r.code, 0, `refused on port ${server.port}`);
      assert.match(r.stderr, /Permission denied/, r.stderr);
    }
  });
});
