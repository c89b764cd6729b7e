/**
 * `npm run bench:cluster` (#20): cluster mode on PostgreSQL, with real `serve` processes behind a
 * real haproxy (test/helpers/cluster.ts: one database, one shared data directory, send-proxy-v2).
 *
 *   (1) throughput: BENCH_FILES small sir files (3 organizations each) uploaded through haproxy
 *       by BENCH_SESSIONS paramiko sessions over two accounts, timed from the first upload to
 *       the last file finished, with 1 node then with 3 nodes (same files, fresh cluster each);
 *       prints files/s and the 3-node / 1-node ratio;
 *   (2) takeover: on 3 nodes, one node killed (SIGKILL) while it holds leased files; the time
 *       from the kill until the last of those files is finished by another node, with the
 *       default engine.leaseMs (30 s) and with BENCH_LEASE_MS (default 5000, the e2e test's);
 *   (3) bench:sal on PostgreSQL: bench/sal.ts's measurement ((a) csv-parse alone, (b) the
 *       200,000-row sal file from upload to report) with the server's store on a fresh
 *       PostgreSQL database, beside the same (b) on SQLite in the same rounds: ratios printed
 *       (target ≥ 50 % of bare csv-parse). BENCH_SAL_ROUNDS (or BENCH_ROUNDS, as bench:sal; default 3); BENCH_ROWS as bench:sal.
 *       PostgreSQL's CPU (its postmaster's tree, when this run started the cluster) is printed over
 *       (b), as the server's is, and over the whole run (the server's start and migrations, the account, the sir fixture).
 *
 * PostgreSQL: FLUXGATE_TEST_POSTGRES_URL, else a private cluster started for the run, with fsync
 * and synchronous commits on (the tests' clusters have them off). BENCH_SKIP=sal,takeover,… leaves
 * parts out. The machine is shared: the load average is printed with each figure.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../test/helpers/cluster';
import { makeKey } from '../test/helpers/keys';
import { freshDatabase, POSTGRES_URL_ENV } from '../test/helpers/postgres';
import { startPostgresCluster } from '../test/helpers/postgres-cluster.mjs';
import { uploadResilient } from '../test/helpers/resilient-upload';
import { writeSirFiles } from '../test/helpers/sir-files';
import { until } from '../test/helpers/wait';
import { treeCpuSeconds } from './proc-stat';
import { cpuBound, csvParseAlone, generate, pipelineSetUp, ROWS, runPipeline, SAL, settle, type PipelineRun } from './sal';

const FILES = Number(process.env.BENCH_FILES ?? 300);
const SESSIONS = Math.max(2, Number(process.env.BENCH_SESSIONS ?? 4));
const LEASE_MS = Number(process.env.BENCH_LEASE_MS ?? 5000);
const SAL_ROUNDS = Math.max(1, Number(process.env.BENCH_SAL_ROUNDS ?? process.env.BENCH_ROUNDS ?? 3));
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const ACCOUNTS = ['acme', 'beta'];
const ROWS_PER_FILE = 3;
const NODE_CONFIG = { log: { level: 'info' }, pgp: { signReports: false } };

const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

/** Accounts, keys and the files (FILES over the accounts), ready to upload. */
async function prepare(cluster: TestCluster): Promise<Array<() => Promise<unknown>>> {
  const source = join(cluster.dir, 'upload');
  mkdirSync(source);
  const perAccount = Math.ceil(FILES / ACCOUNTS.length);
  const sessionsPerAccount = Math.ceil(SESSIONS / ACCOUNTS.length);
  const clients: Array<() => Promise<unknown>> = [];
  for (const account of ACCOUNTS) {
    const key = makeKey('ed25519');
    const r = await cluster.cli('account', 'add', account, '--key', key.publicPath);
    if (r.code !== 0) throw new Error(r.stderr);
    const names = writeSirFiles(source, account, perAccount, ROWS_PER_FILE);
    for (let s = 0; s < sessionsPerAccount; s++) {
      const mine = names.filter((_, i) => i % sessionsPerAccount === s);
      clients.push(() => uploadResilient(cluster.haproxy.port, account, key.privatePath, source, 'in/sir', mine));
    }
  }
  return clients;
}

/** (1) on a fresh cluster of `nodes`: files/s from the first upload to the last file finished. */
async function throughput(nodes: number): Promise<{ filesPerSecond: number; uploadSeconds: number; seconds: number; total: number }> {
  const cluster = await startCluster({ nodes, config: NODE_CONFIG });
  try {
    const clients = await prepare(cluster);
    const total = ACCOUNTS.length * Math.ceil(FILES / ACCOUNTS.length);
    const start = Date.now();
    await Promise.all(clients.map((upload) => upload()));
    const uploaded = Date.now();
    await until(`${total} files finished on ${nodes} node(s)`, async () => (await cluster.finishedFiles()) === total, 600_000, 100);
    const seconds = (Date.now() - start) / 1000;
    return { filesPerSecond: total / seconds, uploadSeconds: (uploaded - start) / 1000, seconds, total };
  } finally {
    await cluster.cleanup();
  }
}

/** (2) on a fresh 3-node cluster: a node killed while it holds files; seconds until they are finished elsewhere. */
async function takeover(leaseMs?: number): Promise<{ seconds: number; files: number; leaseLeft: number }> {
  const cluster = await startCluster({ nodes: 3, config: { ...NODE_CONFIG, ...(leaseMs ? { engine: { leaseMs } } : {}) } });
  try {
    const clients = await prepare(cluster);
    const uploads = Promise.all(clients.map((upload) => upload()));
    uploads.catch(() => {}); // awaited below
    const killed = await cluster.killWhileHolding(1, 10);
    await until('the killed node\'s files are finished elsewhere', async () => (await cluster.finishedFiles(killed.orphaned)) === killed.orphaned.length, 600_000, 50);
    const seconds = (Date.now() - killed.killedAt) / 1000;
    await uploads;
    return { seconds, files: killed.orphaned.length, leaseLeft: (killed.leaseEndsAt - killed.killedAt) / 1000 };
  } finally {
    await cluster.cleanup();
  }
}

/** The private PostgreSQL cluster's postmaster, when this run started one: its CPU is PostgreSQL's. */
let postmasterPid: number | undefined;

/** (3) bench:sal's (a) and (b) in rounds, (b) on PostgreSQL and on SQLite. */
async function salOnPostgres(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-cluster-sal-'));
  try {
    const file = join(dir, SAL);
    await generate(file);
    const ratios: Array<{ pg: number; sqlite: number; run: PipelineRun; pgCpu?: number }> = [];
    for (let round = 1; round <= SAL_ROUNDS; round++) {
      settle();
      const bare = await csvParseAlone(file);
      settle();
      const database = await freshDatabase();
      let pg: PipelineRun;
      const pgCpuBefore = postmasterPid ? treeCpuSeconds(postmasterPid) : NaN;
      let pgCpu: number | undefined;
      try {
        pg = await runPipeline(file, undefined, { store: { url: database.url } }, postmasterPid);
        // The server has stopped: its connections' backends have ended and been counted.
        if (postmasterPid) pgCpu = treeCpuSeconds(postmasterPid) - pgCpuBefore;
      } finally {
        await database.drop();
      }
      settle();
      const sqlite = await runPipeline(file);
      const ratio = { pg: 100 * bare.seconds / pg.seconds, sqlite: 100 * bare.seconds / sqlite.seconds, run: pg, pgCpu };
      ratios.push(ratio);
      console.log(`  round ${round}: (a) csv-parse ${bare.seconds.toFixed(2)} s; (b) PostgreSQL ${pg.seconds.toFixed(2)} s, ratio ${ratio.pg.toFixed(0)}% `
        + `(server CPU ${pg.cpu.toFixed(2)} s${pgCpu === undefined ? '' : `, PostgreSQL's ${pg.postgresCpu!.toFixed(2)} s (${pgCpu.toFixed(2)} s with the server's start)`}, `
        + `main thread ${pg.mainRunning.toFixed(2)} s, peak RSS ${pg.rss.toFixed(0)} MB at ${pg.rssPeakAt.toFixed(1)} s, ${pg.faults} page faults); `
        + `(b) SQLite ${sqlite.seconds.toFixed(2)} s, ratio ${ratio.sqlite.toFixed(0)}% (server CPU ${sqlite.cpu.toFixed(2)} s, peak RSS ${sqlite.rss.toFixed(0)} MB, ${sqlite.faults} page faults); load ${load()}`);
      console.log(`    PostgreSQL's (b) by thread: ${pg.threads}`);
      if (pg.postgresCpu !== undefined) console.log(`    ${cpuBound(bare.seconds, pg.cpu + pg.postgresCpu, 'server and PostgreSQL')}`);
    }
    const byPg = [...ratios].sort((x, y) => x.pg - y.pg);
    const mid = byPg[Math.floor((byPg.length - 1) / 2)];
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
    console.log(`bench:sal (${ROWS.toLocaleString('en')} rows) on PostgreSQL: median ratio ${mid.pg.toFixed(0)}% of bare csv-parse (target ≥ 50%); `
      + `SQLite in the same rounds: ${median(ratios.map((r) => r.sqlite)).toFixed(0)}%`);
    console.log(`  the median PostgreSQL round: main thread on a core ${mid.run.mainRunning.toFixed(2)} s, waiting for one ${mid.run.mainWaiting.toFixed(2)} s, `
      + `asleep (rows, PostgreSQL's answers, I/O) ${(mid.run.seconds - mid.run.mainRunning - mid.run.mainWaiting).toFixed(2)} s; by thread: ${mid.run.threads}`);
    for (const line of mid.run.timeline) console.log(`  ${line}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!process.env[POSTGRES_URL_ENV]) {
    const own = await startPostgresCluster({ durable: true });
    process.once('exit', () => own.stop());
    postmasterPid = Number(readFileSync(join(own.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.env[POSTGRES_URL_ENV] = own.url;
    console.log('PostgreSQL: a private cluster for this run (fsync and synchronous commits on)');
  } else {
    console.log(`PostgreSQL: ${POSTGRES_URL_ENV}`);
  }
  console.log(`load average at start ${load()} (2 cores, shared)`);
  if (!SKIP.has('throughput')) {
    console.log(`(1) ${FILES} sir files of ${ROWS_PER_FILE} rows, ${SESSIONS} paramiko sessions through haproxy, first upload → last file finished:`);
    const one = await throughput(1);
    console.log(`  1 node:  ${one.filesPerSecond.toFixed(1)} files/s (${one.total} files in ${one.seconds.toFixed(2)} s, uploads done after ${one.uploadSeconds.toFixed(2)} s); load ${load()}`);
    const three = await throughput(3);
    console.log(`  3 nodes: ${three.filesPerSecond.toFixed(1)} files/s (${three.total} files in ${three.seconds.toFixed(2)} s, uploads done after ${three.uploadSeconds.toFixed(2)} s); load ${load()}`);
    console.log(`  3 nodes / 1 node: ${(three.filesPerSecond / one.filesPerSecond).toFixed(2)}× (all processes on this one 2-core machine; `
      + `engine.concurrency.perAccount is 1 per node: with ${ACCOUNTS.length} accounts a node processes at most ${ACCOUNTS.length} files at once)`);
  }
  if (!SKIP.has('takeover')) {
    console.log('(2) SIGKILL of a node holding leased files → the last of them finished on another node:');
    for (const [label, leaseMs] of [['default engine.leaseMs (30000 ms)', undefined], [`engine.leaseMs ${LEASE_MS} ms`, LEASE_MS]] as const) {
      const t = await takeover(leaseMs);
      console.log(`  ${label}: ${t.seconds.toFixed(2)} s for ${t.files} file(s) (their leases had ${t.leaseLeft.toFixed(1)} s left at the kill); load ${load()}`);
    }
  }
  if (!SKIP.has('sal')) {
    console.log(`(3) bench:sal with the store on PostgreSQL, ${SAL_ROUNDS} round(s), ${pipelineSetUp()}:`);
    await salOnPostgres();
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
