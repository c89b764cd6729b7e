import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sftpBatch } from '../helpers/clients';
import { CLUSTER_PROXY, startCluster, TestCluster } from '../helpers/cluster';
import { parseJson } from '../helpers/json';
import { makeKey, type TestKey } from '../helpers/keys';
import { uploadResilient } from '../helpers/resilient-upload';
import { sirFileName, sirOrgCode, writeSirFiles } from '../helpers/sir-files';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// Issue #20's end-to-end test: three `fluxgate serve` nodes on one PostgreSQL database and one
// shared data directory, behind one haproxy (roundrobin, send-proxy-v2 from 127.0.0.9, the
// nodes' only trusted proxy). 300 small sir files (3 organizations each, distinct codes, so a
// file applied twice or a row written twice is countable) are uploaded through the balancer by
// four paramiko sessions of two accounts; node-b is killed (SIGKILL) while it holds leased work
// and files are being processed, then, once its work was taken over, node-c is stopped
// (SIGTERM) and started again under the same node id. Then every file must have one journal
// entry, processed, one receipt and one report, and every organization must be in the
// directory once, written by its file. engine.leaseMs is 5 s here (default 30 s) and the tree
// scan runs every 2 s (default 45 s), so that a dead node's work is taken over within the
// test's time on a loaded 2-core machine.
const skip = skipUnless('postgres', 'haproxy', 'paramiko', 'sftp', 'ssh-keygen');

const ACCOUNTS = ['acme', 'beta'] as const;
const FILES_PER_ACCOUNT = 150;
const SESSIONS_PER_ACCOUNT = 2;
const ROWS_PER_FILE = 3;
const TOTAL = ACCOUNTS.length * FILES_PER_ACCOUNT;
const LEASE_MS = 5000;
const VICTIM = 1; // node-b: SIGKILL
const RESTARTED = 2; // node-c: SIGTERM, then started again

let cluster: TestCluster | undefined;
after(async () => { await cluster?.cleanup(); });

interface NodeJson { id: string; address: string; state: string; pid: number; startedAt: string; lastHeartbeat: string; filesInProgress: number }

async function nodes(c: TestCluster, ...args: string[]): Promise<NodeJson[]> {
  const r = await c.cli('nodes', '--json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return parseJson<NodeJson[]>(r.stdout);
}

/** Logs in as `gate` through haproxy from 127.0.0.2 until every listed node has served one such login (roundrobin moves on each time). */
async function loginOnEveryNode(c: TestCluster, key: TestKey, nodeIndexes: number[]): Promise<void> {
  const served = (i: number) => c.nodes[i].logs.some((l) => l.event === 'login' && l.accountId === 'gate');
  for (let attempt = 0; attempt < 4 * nodeIndexes.length && !nodeIndexes.every(served); attempt++) {
    const r = await sftpBatch(c.haproxy.port, 'gate', key.privatePath, ['ls /'], ['-o', 'BindAddress=127.0.0.2']);
    assert.equal(r.code, 0, `gate, allowlisted for 127.0.0.2, logs in through haproxy: ${r.stderr}`);
  }
  for (const i of nodeIndexes) {
    const login = await c.nodes[i].waitForLog((l) => l.event === 'login' && l.accountId === 'gate', 5000)
      .catch(() => assert.fail(`${TestCluster.nodeId(i)} served no login of gate`));
    assert.equal(login.address, '127.0.0.2', 'the client address from the PROXY v2 header');
    assert.equal(login.proxy, CLUSTER_PROXY);
  }
  // From 127.0.0.1, not in gate's allowlist: refused, whichever node the balancer picks.
  const refusals = () => c.nodes.reduce((n, node) => n + node.logs.filter((l) => l.event === 'login refused' && l.username === 'gate'
    && l.address === '127.0.0.1' && l.proxy === CLUSTER_PROXY && l.reason === 'address not in the account allowlist').length, 0);
  const before = refusals();
  const refused = await sftpBatch(c.haproxy.port, 'gate', key.privatePath, ['ls /'], ['-o', 'BindAddress=127.0.0.1']);
  assert.notEqual(refused.code, 0, 'gate from 127.0.0.1 is refused');
  await until('a node logs the refusal of gate from 127.0.0.1', () => refusals() > before, 10_000);
}

type FileRow = { id: string; account_id: string; name: string; state: string; attempts: number; outcome: string | null };

test('three nodes behind haproxy on one PostgreSQL: 300 files through the balancer, one node killed, another restarted: each file once, each row once', { skip, timeout: 300_000 }, async (t) => {
  cluster = await startCluster({
    config: {
      log: { level: 'info' },
      pgp: { signReports: false },
      engine: { leaseMs: LEASE_MS, scanIntervalSeconds: 2, watch: false },
    },
  });
  const c = cluster;
  const keys: Record<string, TestKey> = {};
  for (const account of [...ACCOUNTS, 'gate']) {
    keys[account] = makeKey('ed25519');
    const r = await c.cli('account', 'add', account, '--key', keys[account].publicPath, ...(account === 'gate' ? ['--allow-ip', '127.0.0.2'] : []));
    assert.equal(r.code, 0, r.stderr);
  }

  // An account added through one node's CLI logs in on every node, seen from its real address.
  await loginOnEveryNode(c, keys.gate, [0, 1, 2]);
  assert.deepEqual((await nodes(c)).map((n) => [n.id, n.state]).sort(), [['node-a', 'alive'], ['node-b', 'alive'], ['node-c', 'alive']]);

  const source = join(c.dir, 'upload');
  mkdirSync(source);
  const uploads = Promise.all(ACCOUNTS.flatMap((account) => {
    const names = writeSirFiles(source, account, FILES_PER_ACCOUNT, ROWS_PER_FILE);
    return Array.from({ length: SESSIONS_PER_ACCOUNT }, (_, s) => uploadResilient(c.haproxy.port, account, keys[account].privatePath, source, 'in/sir',
      names.filter((_, i) => i % SESSIONS_PER_ACCOUNT === s)));
  }));
  uploads.catch(() => {}); // awaited below: a failed client fails the test there, not as an unhandled rejection
  let uploading = true;
  void uploads.finally(() => { uploading = false; }).catch(() => {});

  const db = c.database;

  // node-b dies while it holds files and others are done.
  const killed = await c.killWhileHolding(VICTIM, 20);
  const uploadingAtKill = uploading;
  const { orphaned, pid: victimPid } = killed;
  assert.ok(orphaned.length > 0 && killed.finishedBefore < TOTAL,
    `killed in the middle of processing: ${killed.finishedBefore} of ${TOTAL} done, ${orphaned.length} leased by node-b`);
  // Those node-b had begun (journal state processing; a job leased a moment before its attempt
  // began is not yet). It was killed as soon as it was seen in the middle of one: only an attempt
  // finishing within that millisecond leaves none (said in the diagnostics).
  const cutShort = await c.filesInAttemptBy(victimPid);

  // Its files are finished by the others once its leases lapse.
  await until(`node-b's ${orphaned.length} leased files are finished by another node`, async () => {
    return (await c.finishedFiles(orphaned)) === orphaned.length;
  }, 90_000, 200);

  // node-c stops cleanly and starts again under its id, while uploads and processing may go on.
  const restartedAt = Date.now();
  await c.restart(RESTARTED);

  const results = await uploads;
  assert.equal(results.reduce((n, r) => n + r.uploaded, 0), TOTAL);
  // Four sessions spread over three nodes by roundrobin: one at least was on node-b, and lost.
  t.diagnostic(`node-b killed with ${killed.finishedBefore} of ${TOTAL} files finished, ${orphaned.length} leased by it (${cutShort.length} mid-attempt), `
    + `uploads ${uploadingAtKill ? 'still running' : 'done'}; client reconnects: ${results.map((r) => r.reconnects).join(', ')}`);
  if (uploadingAtKill) assert.ok(results.some((r) => r.reconnects > 0), `a client reconnected after node-b died: ${JSON.stringify(results)}`);
  await until(`all ${TOTAL} files are finished`, async () => (await c.finishedFiles()) === TOTAL, 120_000, 250);

  // One journal entry per uploaded file, processed, with one receipt and one report.
  const files = await db.query<FileRow>(`SELECT id, account_id, name, state, attempts, outcome FROM files ORDER BY account_id, name`);
  const expected = ACCOUNTS.flatMap((a) => Array.from({ length: FILES_PER_ACCOUNT }, (_, i) => `${a}/${sirFileName(a, i)}`)).sort();
  assert.deepEqual(files.map((f) => `${f.account_id}/${f.name}`), expected, 'exactly one journal entry per file');
  for (const f of files) {
    assert.equal(f.state, 'processed', `${f.name}: ${f.outcome}`);
    const counts = (JSON.parse(f.outcome!) as { counts: Record<string, number> }).counts;
    assert.equal(counts.rejected + counts.updated, 0, `${f.name}: ${f.outcome}`);
    // A retried file may find its organizations already applied by an attempt cut short after its commit.
    assert.equal(counts.created + counts.unchanged, ROWS_PER_FILE, `${f.name}: ${f.outcome}`);
    if (f.attempts === 1) assert.equal(counts.created, ROWS_PER_FILE, `${f.name}: ${f.outcome}`);
  }
  // A retry rewrites its file's report in place (and records it again): one path per file and kind.
  const outputs = await db.query<{ file_id: string; kind: string; path: string }>(`SELECT DISTINCT file_id, kind, path FROM outputs`);
  for (const kind of ['receipt', 'report']) {
    const of = outputs.filter((o) => o.kind === kind);
    const wrong = files.filter((f) => of.filter((o) => o.file_id === f.id).length !== 1)
      .map((f) => ({ file: f.name, [kind]: of.filter((o) => o.file_id === f.id).map((o) => o.path) }));
    const history = wrong.length === 0 ? [] : await db.query(`SELECT f.name, e.at, e.type, e.detail FROM file_events e JOIN files f ON f.id = e.file_id
      WHERE f.name = ANY($1) ORDER BY e.id`, [wrong.map((w) => w.file)]);
    assert.deepEqual(wrong, [], `one ${kind} per file; their events: ${JSON.stringify(history)}`);
    assert.equal(new Set(of.map((o) => o.path)).size, files.length, `no two files share a ${kind}`);
  }
  for (const account of ACCOUNTS) {
    const out = join(c.dataDir, 'sftp', account, 'out');
    const receipts = readdirSync(join(out, 'tra'));
    assert.equal(receipts.length, FILES_PER_ACCOUNT, `${account}: one receipt file per upload`);
    // In the protocol's form (14 or 17 digits): two nodes naming receipts in the same second took distinct names, none a .2.xml.
    assert.deepEqual(receipts.filter((n) => !new RegExp(`^cdmat_${account}_tra_sir_\\d{14}(\\d{3})?\\.xml$`).test(n)), [], `${account}: receipt names`);
    assert.deepEqual(readdirSync(join(out, 'sir')).sort(), Array.from({ length: FILES_PER_ACCOUNT }, (_, i) => `cdmat_${sirFileName(account, i).slice('ndmat_'.length)}`).sort(),
      `${account}: one report per upload, none twice (no .2.csv)`);
    assert.deepEqual(readdirSync(join(c.dataDir, 'sftp', account, 'in', 'sir')), [], `${account}: nothing left in in/sir`);
  }
  // The kill cut attempts short: those files were recorded interrupted, and ran again.
  const interrupted = await db.query<{ file_id: string }>(`SELECT DISTINCT file_id FROM file_events WHERE type = 'interrupted'`);
  assert.deepEqual(cutShort.filter((id) => !interrupted.some((r) => r.file_id === id)), [], 'each attempt node-b was killed in is recorded interrupted');

  // The directory holds each organization once, written by the file that carries it.
  const orgs = await db.query<{ account_id: string; code: string; source_file: string }>(`SELECT account_id, code, source_file FROM dir_organizations`);
  assert.equal(orgs.length, TOTAL * ROWS_PER_FILE);
  const idOf = new Map(files.map((f) => [`${f.account_id}/${f.name}`, f.id]));
  for (const account of ACCOUNTS) {
    for (let i = 0; i < FILES_PER_ACCOUNT; i++) {
      for (let r = 1; r <= ROWS_PER_FILE; r++) {
        const rows = orgs.filter((o) => o.account_id === account && o.code === sirOrgCode(i, r));
        assert.deepEqual(rows.map((o) => o.source_file), [idOf.get(`${account}/${sirFileName(account, i)}`)], `${account} ${sirOrgCode(i, r)}`);
      }
    }
  }

  // `fluxgate nodes`: node-a and the restarted node-c alive with nothing in progress; node-b silent.
  // (files in progress are reported with each heartbeat, every 5 s: the last files' may be one
  // beat late; node-b counts as alive until 15 s after its last beat)
  let alive: NodeJson[] = [];
  await until('node-a and node-c alone are alive, with no file in progress', async () => {
    alive = await nodes(c);
    return alive.length === 2 && alive.every((n) => n.filesInProgress === 0);
  }, 30_000, 500);
  assert.deepEqual(alive.map((n) => n.id).sort(), ['node-a', 'node-c']);
  const restarted = alive.find((n) => n.id === 'node-c')!;
  assert.equal(restarted.pid, c.nodes[RESTARTED].pid);
  assert.ok(Date.parse(restarted.startedAt) >= restartedAt - 1000, `node-c started again: ${restarted.startedAt}`);
  let all: NodeJson[] = [];
  await until('node-b is listed silent', async () => (all = await nodes(c, '--all')).some((n) => n.id === 'node-b' && n.state === 'silent'), 30_000, 500);
  assert.equal(all.find((n) => n.id === 'node-b')!.pid, victimPid);

  // After all that, the allowlist still holds on the nodes alive.
  await loginOnEveryNode(c, keys.gate, [0, RESTARTED]);
});
