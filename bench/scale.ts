/**
 * `npm run bench:scale`: one server with many idle accounts (issue #19, item 4).
 *
 * For each account count (BENCH_ACCOUNTS, default "10,10000"; e.g. "10,10000,30000"), on a fresh
 * data directory: the server runs once (PGP key, host keys), the accounts are created (exchange
 * accounts with their default tree, one shared key), then the server is started again and the
 * bench prints:
 *   - import time of the accounts (a CSV through `fluxgate account import`, the whole CLI process)
 *   - start to listening (spawn of `fluxgate serve` to its 'listening' line), and how long the
 *     start-up read of every account tree took (in the background, after listening)
 *   - CPU used over the first 60 s (the background start-up work: the read of every tree, the
 *     sweep of leftover temporaries, the PGP key's publication) and RSS after them; when that
 *     work was done; then CPU used over 60 s at rest once it is done, and RSS after them
 *   - inotify watches held (from /proc/<pid>/fdinfo of its inotify descriptors)
 *   - login + `ls` of in/ p50 / p95 over BENCH_LOGINS (50) logins to random accounts (ssh2 client)
 *   - upload → report p50 of BENCH_UPLOADS (20) small echo files, one at a time, to one random account
 *   - delay until a file dropped into a random account's in/ by a plain `cp` is journaled
 *     (BENCH_DROPS of them, 3 by default)
 * BENCH_REST_SECONDS (60) shortens the waits for a quick look. Figures are read, not asserted:
 * the machine is shared; the load average is printed beside them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { makeKey, type TestKey } from '../test/helpers/keys';
import { openDatabase } from '../core/store/database';
import { inotifyWatches } from '../test/helpers/proc';
import { REPO_ROOT, TestServer } from '../test/helpers/server';
import { cpuSeconds } from './proc-stat';

const COUNTS = (process.env.BENCH_ACCOUNTS ?? '10,10000').split(',').map(Number);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 50);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20);
const DROPS = Number(process.env.BENCH_DROPS ?? 3);
const REST_MS = Number(process.env.BENCH_REST_SECONDS ?? 60) * 1000;

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (v: number): string => `${v.toFixed(0)} ms`;
const secs = (v: number): string => `${(v / 1000).toFixed(1)} s`;


function rssMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb?.[1] ?? NaN) / 1024;
}

/** inotify watches the process holds (one `inotify wd:` line per watch in fdinfo). */

const accountId = (i: number): string => `c${String(i).padStart(6, '0')}`;

/**
 * N exchange accounts with their default tree and one shared key, made the way an operator
 * onboards them: a CSV through `fluxgate account import` (the whole CLI process, timed).
 */
export function createAccounts(server: TestServer, count: number, key: TestKey): number {
  const lines = ['id,profile,partner,keys,allow_ips'];
  for (let i = 0; i < count; i++) lines.push(`${accountId(i)},exchange,${accountId(i)},${key.publicKey.trim()},`);
  const file = join(server.dataDir, '..', `accounts-${count}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'fluxgate.js'), '--config', server.configFile, 'account', 'import', file, '--json'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const took = Date.now() - started;
  if (r.status !== 0) throw new Error(`account import exited with ${r.status}: ${r.stderr}`);
  const { counts } = JSON.parse(r.stdout) as { counts: Record<string, number> };
  if (counts.created !== count) throw new Error(`account import created ${counts.created} of ${count} accounts: ${r.stdout.slice(0, 500)}`);
  return took;
}

function connect(port: number, user: string, key: TestKey): Promise<{ client: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
    client.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(key.privatePath), readyTimeout: 60_000 });
  });
}

/** Login + `ls in`: connect, authenticate, open SFTP, list in/, in ms. */
export async function loginAndList(port: number, user: string, key: TestKey): Promise<number> {
  const started = performance.now();
  const { client, sftp } = await connect(port, user, key);
  await new Promise<void>((resolve, reject) => sftp.readdir('in', (err) => (err ? reject(err) : resolve())));
  const took = performance.now() - started;
  client.end();
  return took;
}

/** Upload → report in out/echo, one file at a time; latencies in ms. */
export async function uploadToReport(server: TestServer, user: string, key: TestKey): Promise<number[]> {
  const root = join(server.dataDir, 'sftp', user);
  mkdirSync(join(root, 'in', 'echo'), { recursive: true });
  const { client, sftp } = await connect(server.port, user, key);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < UPLOADS; i++) {
      const name = `ndmat_${user}_${user}_echo_2611${String(1200000 + i).padStart(8, '0')}.csv`;
      const done = await new Promise<number>((resolve, reject) => {
        sftp.writeFile(`in/echo/${name}.filepart`, 'line-1\nline-2\n', (err) => {
          if (err) return reject(err);
          sftp.rename(`in/echo/${name}.filepart`, `in/echo/${name}`, (e) => (e ? reject(e) : resolve(performance.now())));
        });
      });
      const report = join(root, 'out', 'echo', name.replace('ndmat_', 'cdmat_'));
      const deadline = Date.now() + 60_000;
      for (;;) {
        try { readFileSync(report); break; } catch { /* not yet */ }
        if (Date.now() > deadline) throw new Error(`no report for ${name} after 60 s`);
        await sleep(1);
      }
      latencies.push(performance.now() - done);
    }
  } finally {
    client.end();
  }
  return latencies;
}

/** Copies a file into in/echo of `user` with `cp` (no SFTP) and waits until the journal has it: ms. */
async function dropDelay(server: TestServer, user: string, index: number): Promise<number> {
  const dir = join(server.dataDir, 'sftp', user, 'in', 'echo');
  mkdirSync(dir, { recursive: true });
  const name = `ndmat_${user}_${user}_echo_2611${String(1300000 + index).padStart(8, '0')}.csv`;
  const source = join(server.dir, name);
  writeFileSync(source, 'dropped\n');
  const db = openDatabase(join(server.dataDir, 'fluxgate.db'));
  try {
    const copied = Date.now();
    execFileSync('cp', [source, join(dir, name)]);
    const deadline = copied + 5 * 60_000;
    for (;;) {
      const row = db.prepare('SELECT received_at FROM files WHERE name = ?').get(name) as { received_at: number } | undefined;
      if (row) return row.received_at - copied;
      if (Date.now() > deadline) throw new Error(`${name}, dropped by cp into ${dir}, not found after 5 min`);
      await sleep(100);
    }
  } finally {
    db.close();
  }
}

const random = (count: number): string => accountId(Math.floor(Math.random() * count));

async function phase(count: number, key: TestKey): Promise<Record<string, string>> {
  // The queue's production poll (engine.pollIntervalMs, 1 s): the test helper's 100 ms, a test
  // speed-up, would wake the idle server ten times a second by itself (docs/scale.md).
  const server = new TestServer({ config: { log: { level: 'info' }, pgp: { signReports: false, keyType: 'curve25519' }, engine: { pollIntervalMs: 1000 } } });
  try {
    await server.start();
    await server.stop();
    const created = createAccounts(server, count, key);
    const loadBefore = load();
    // The first run's lines would answer the waits below (its 'listening' names another port).
    server.logs = [];
    const spawned = Date.now();
    await server.start();
    const listening = Date.now() - spawned;
    const pid = server.pid!;
    const cpu0 = cpuSeconds(pid);
    await sleep(REST_MS);
    const cpuFirst = cpuSeconds(pid) - cpu0;
    const rss = rssMb(pid);
    // At rest once the background start-up work is over: the read of every tree, the sweep of
    // leftover temporaries, the PGP key's publication.
    const background = await Promise.all([
      (l: Record<string, unknown>) => l.msg === 'intake: start-up scan of every account tree done',
      (l: Record<string, unknown>) => l.component === 'startup' && /temporary files left/.test(String(l.msg)),
      (l: Record<string, unknown>) => l.msg === 'PGP public key published to exchange accounts',
    ].map((pred) => server.waitForLog(pred, 15 * 60_000)));
    const scanned = background[0];
    const backgroundDone = Math.max(...background.map((l) => l.time as number)) - (server.logs.find((l) => l.msg === 'listening')!.time as number);
    const cpu1 = cpuSeconds(pid);
    await sleep(REST_MS);
    const cpuRest = cpuSeconds(pid) - cpu1;
    const rssRest = rssMb(pid);
    const watches = inotifyWatches(pid).length;

    const logins: number[] = [];
    for (let i = 0; i < LOGINS; i++) logins.push(await loginAndList(server.port, random(count), key));
    logins.sort((a, b) => a - b);
    const uploads = (await uploadToReport(server, random(count), key)).sort((a, b) => a - b);
    const drops: number[] = [];
    for (let i = 0; i < DROPS; i++) drops.push(await dropDelay(server, random(count), i));

    const row = {
      accounts: String(count),
      'import': secs(created),
      'start to listening': secs(listening),
      'start-up scan of every tree': secs(scanned.ms as number),
      'background start-up work done after': secs(backgroundDone),
      [`CPU first ${REST_MS / 1000} s`]: `${cpuFirst.toFixed(2)} s (${((cpuFirst * 1000 / REST_MS) * 100).toFixed(1)} %)`,
      'RSS after 60 s / at rest': `${rss.toFixed(0)} / ${rssRest.toFixed(0)} MB`,
      [`CPU at rest, ${REST_MS / 1000} s once it is done`]: `${cpuRest.toFixed(2)} s (${((cpuRest * 1000 / REST_MS) * 100).toFixed(2)} % of one core)`,
      'inotify watches': String(watches),
      'login + ls p50/p95': `${ms(pct(logins, 50))} / ${ms(pct(logins, 95))}`,
      'upload → report p50': ms(pct(uploads, 50)),
      'cp drop found after': drops.map(secs).join(', '),
      'load average': `${loadBefore} before, ${load()} after`,
    };
    process.stdout.write(`${count} accounts:\n${Object.entries(row).slice(1).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
    return row;
  } catch (err) {
    process.stderr.write(`the server's last log lines:\n${server.logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n`);
    throw err;
  } finally {
    await server.stop();
    await server.cleanup();
  }
}

async function main(): Promise<void> {
  const key = makeKey();
  const rows: Array<Record<string, string>> = [];
  for (const count of COUNTS) rows.push(await phase(count, key));
  const columns = Object.keys(rows[0]);
  process.stdout.write(`\n| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${columns.map((c) => row[c]).join(' | ')} |\n`);
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
