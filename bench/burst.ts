/**
 * `npm run bench:burst`: many SFTP clients uploading small sir files at once (issue #17, item 14).
 *
 * On a fresh real server (one per phase), BENCH_CLIENTS ssh2 clients (default 50) connect, then
 * all upload their BENCH_FILES_PER_CLIENT files (default 20) at the same moment, each client one
 * file after another (`.filepart`, then rename, as OpenSSH and WinSCP do). Prints:
 *   - files/s: files in a final state ÷ seconds from the first upload starting to the last file finished
 *   - upload done → processed p50 / p99 / max: from the client's completed rename to the journal's
 *     `processed_at` (same machine, same clock)
 *   - how far receipt names are from the time their receipt was written (they must stay close
 *     to the real time) and whether any two files share one
 * Baseline measured in the same run, on the same server before the burst: BENCH_BASELINE files
 * (default 20) from one client, one at a time, each waited for (latency with nothing else going on).
 * Phases: PGP signing of receipts and reports off, then on (`pgp.signReports`, the server key
 * of BENCH_KEY_TYPE, default rsa4096: the production default).
 *
 * Env: BENCH_CLIENTS, BENCH_FILES_PER_CLIENT, BENCH_ACCOUNTS (default 1: every client logs in to
 * the same account, the hardest case for per-account ordering and receipt names), BENCH_BASELINE,
 * BENCH_SIGN=off|on|both (default both), BENCH_KEY_TYPE, BENCH_PROFILE=DIR (the server's
 * --cpu-prof into DIR). Not part of `npm test`: targets (≥ 50 files/s, p99 < 30 s) are read, not asserted.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { openDatabase } from '../core/store/database';
import { makeKey, type TestKey } from '../test/helpers/keys';
import { TestServer } from '../test/helpers/server';
import { cpuSeconds } from './proc-stat';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const PER_CLIENT = Number(process.env.BENCH_FILES_PER_CLIENT ?? 20);
const ACCOUNTS = Math.max(1, Number(process.env.BENCH_ACCOUNTS ?? 1));
const BASELINE = Number(process.env.BENCH_BASELINE ?? 20);
const SIGN = process.env.BENCH_SIGN ?? 'both';
const KEY_TYPE = process.env.BENCH_KEY_TYPE ?? 'rsa4096';
const PROFILE = process.env.BENCH_PROFILE;
/** BENCH_WATCH=1: chokidar watches the accounts' trees as well (engine.watch: true), to see what the watcher costs; default: the server's default (no watcher). */
const WATCH = process.env.BENCH_WATCH === '1';
const TOTAL = CLIENTS * PER_CLIENT;
const CONNECT_AT_ONCE = 8;
const FINAL = new Set(['processed', 'rejected', 'dead']);

const SIR = readFileSync(join(__dirname, '..', 'test', 'fixtures', 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'));

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** A unique, valid 14-digit name timestamp per file: 2026-11-20 from 08:00:00, one second apart. */
function fileName(account: string, index: number): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const h = 8 + Math.floor(index / 3600);
  return `ndmat_${account}_${account}_sir_hrmanager_v6_202611${p(20 + Math.floor(h / 24))}${p(h % 24)}${p(Math.floor(index / 60) % 60)}${p(index % 60)}.csv`;
}

function connect(port: number, user: string, key: TestKey): Promise<{ client: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
    client.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(key.privatePath), readyTimeout: 120_000 });
  });
}

function upload(sftp: SFTPWrapper, name: string): Promise<number> {
  const dir = 'in/sir';
  return new Promise((resolve, reject) => {
    sftp.writeFile(`${dir}/${name}.filepart`, SIR, (err) => {
      if (err) return reject(err);
      sftp.rename(`${dir}/${name}.filepart`, `${dir}/${name}`, (e) => (e ? reject(e) : resolve(Date.now())));
    });
  });
}

interface Row { name: string; state: string; received_at: number; processed_at: number | null; receipt_path: string | null; receipt_written_at: number | null }

/** The journal, read from the server's database (WAL: safe beside the running server). */
function journal(server: TestServer): Row[] {
  const db = openDatabase(join(server.dataDir, 'fluxgate.db'));
  try {
    return db.prepare('SELECT name, state, received_at, processed_at, receipt_path, receipt_written_at FROM files').all() as Row[];
  } finally {
    db.close();
  }
}

/**
 * Where the burst's time went, from the files' timelines: waiting in the queue (received → the
 * attempt that finished it), then each step's own duration (the `ms` of its `step` event).
 */
function timeline(server: TestServer, names: Set<string>): string {
  const db = openDatabase(join(server.dataDir, 'fluxgate.db'));
  try {
    const events = db.prepare(`SELECT f.name, e.type, e.at, e.detail FROM file_events e JOIN files f ON f.id = e.file_id ORDER BY e.id`).all() as Array<{ name: string; type: string; at: number; detail: string }>;
    const received = new Map<string, number>();
    const queued: number[] = [];
    const steps = new Map<string, number[]>();
    for (const e of events) {
      if (!names.has(e.name)) continue;
      if (e.type === 'received') received.set(e.name, e.at);
      else if (e.type === 'attempt') queued.push(e.at - received.get(e.name)!);
      else if (e.type === 'step') {
        const d = JSON.parse(e.detail) as { step: string; ms?: number };
        if (typeof d.ms === 'number') steps.set(d.step, [...(steps.get(d.step) ?? []), d.ms]);
      }
    }
    const q = queued.sort((a, b) => a - b);
    const perStep = [...steps].map(([step, ms]) => {
      const sorted = ms.sort((a, b) => a - b);
      return `${step} ${pct(sorted, 50)}/${pct(sorted, 99)}`;
    });
    return `  where the time went: queued (received → attempt) p50 ${secs(pct(q, 50))} p99 ${secs(pct(q, 99))}; steps p50/p99 ms: ${perStep.join(', ')}`;
  } finally {
    db.close();
  }
}

async function waitFinal(server: TestServer, names: Set<string>, timeoutMs: number): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = journal(server).filter((r) => names.has(r.name));
    if (rows.length === names.size && rows.every((r) => FINAL.has(r.state))) return rows;
    if (Date.now() > deadline) throw new Error(`only ${rows.filter((r) => FINAL.has(r.state)).length} of ${names.size} files finished in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `…_yyyymmddhhmmss[fff].xml` → epoch ms (server local time, as written). */
function receiptStamp(path: string): number {
  const m = /_(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d{3})?\.xml$/.exec(path);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return new Date(y, mo - 1, d, h, mi, s, Number.isNaN(ms) ? 0 : ms).getTime();
}

async function phase(sign: boolean): Promise<void> {
  const server = new TestServer({
    config: { log: { level: 'info' }, environment: 'production', pgp: { signReports: sign, keyType: KEY_TYPE }, engine: { watch: WATCH } },
    nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [],
  });
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => (ACCOUNTS === 1 ? 'acme' : `acme${i + 1}`));
  try {
    await server.start();
    const keys = new Map<string, TestKey>();
    for (const a of accounts) {
      const key = makeKey();
      const add = await server.cli('account', 'add', a, '--key', key.publicPath);
      if (add.code !== 0) throw new Error(add.stderr);
      keys.set(a, key);
    }
    const loadBefore = load();

    // Baseline: one client, one file at a time, each waited for.
    const base = await connect(server.port, accounts[0], keys.get(accounts[0])!);
    const baseLatency: number[] = [];
    for (let i = 0; i < BASELINE; i++) {
      const name = fileName(accounts[0], 50_000 + i);
      const done = await upload(base.sftp, name);
      const [row] = await waitFinal(server, new Set([name]), 60_000);
      baseLatency.push(row.processed_at! - done);
    }
    base.client.end();

    // The burst: every client connected first, then all upload at once.
    // Logged in a few at a time: the server lets 16 connections per address be logging in at once (sftp.maxStartupsPerAddress).
    const sessions: Array<{ client: Client; sftp: SFTPWrapper; account: string; c: number }> = [];
    for (let c = 0; c < CLIENTS; c += CONNECT_AT_ONCE) {
      sessions.push(...await Promise.all(Array.from({ length: Math.min(CONNECT_AT_ONCE, CLIENTS - c) }, (_, j) => {
        const account = accounts[(c + j) % ACCOUNTS];
        return connect(server.port, account, keys.get(account)!).then((s) => ({ ...s, account, c: c + j }));
      })));
    }
    const uploadedAt = new Map<string, number>();
    const names = new Set<string>();
    const started = Date.now();
    const cpuBefore = cpuSeconds(server.pid!);
    await Promise.all(sessions.map(async ({ sftp, account, c }) => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const name = fileName(account, c * PER_CLIENT + i);
        names.add(name);
        uploadedAt.set(name, await upload(sftp, name));
      }
    }));
    const uploadsDone = Date.now();
    for (const s of sessions) s.client.end();
    const rows = await waitFinal(server, names, 15 * 60_000);
    const finished = Math.max(...rows.map((r) => r.processed_at!));
    const cpu = cpuSeconds(server.pid!) - cpuBefore;

    const latency = rows.map((r) => r.processed_at! - uploadedAt.get(r.name)!).sort((a, b) => a - b);
    const base50 = [...baseLatency].sort((a, b) => a - b);
    const notProcessed = rows.filter((r) => r.state !== 'processed');
    const receipts = rows.filter((r) => r.receipt_path);
    const drift = receipts.map((r) => receiptStamp(r.receipt_path!) - r.receipt_written_at!).sort((a, b) => a - b);
    const shared = receipts.length - new Set(receipts.map((r) => r.receipt_path)).size;
    process.stdout.write([
      `signing ${sign ? `on (${KEY_TYPE})` : 'off'}: ${CLIENTS} clients × ${PER_CLIENT} sir files, ${ACCOUNTS} account(s), load average ${loadBefore} before`,
      `  baseline, one file at a time (${BASELINE} files): upload done → processed p50 ${secs(pct(base50, 50))}, max ${secs(base50.at(-1)!)}`,
      `  burst: ${(TOTAL / ((finished - started) / 1000)).toFixed(1)} files/s (${TOTAL} files, uploads took ${secs(uploadsDone - started)}, all final after ${secs(finished - started)})`,
      `  upload done → processed: p50 ${secs(pct(latency, 50))}  p99 ${secs(pct(latency, 99))}  max ${secs(latency.at(-1)!)}`,
      timeline(server, names),
      `  server CPU: ${cpu.toFixed(1)} s for the burst (uploads and processing), ${((cpu * 1000) / TOTAL).toFixed(1)} ms per file`,
      `  receipt name minus the time it was written: min ${secs(drift[0])}, max ${secs(drift.at(-1)!)}; names shared by two files: ${shared}`,
      `  not processed: ${notProcessed.length}${notProcessed.length ? ` (${[...new Set(notProcessed.map((r) => r.state))].join(', ')})` : ''}; load average ${load()} after`,
      '',
    ].join('\n'));
  } finally {
    await server.stop();
    await server.cleanup();
  }
}

async function main(): Promise<void> {
  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  if (SIGN !== 'on') await phase(false);
  if (SIGN !== 'off') await phase(true);
}

main().catch((err) => { console.error(err); process.exit(1); });
