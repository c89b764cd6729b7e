/**
 * `npm run bench:journal`: does the engine stay fast with a long history (issue #19, item 3)?
 *
 *   1. fills a fresh data directory with BENCH_JOURNAL_FILES journal rows (default 1,000,000)
 *      spread over BENCH_JOURNAL_ACCOUNTS exchange accounts (default 1,000) and 400 days, as a
 *      server that has run that long leaves them: their timeline events, receipts and reports in
 *      `outputs`, a done queue job each, and the rows retention already deleted (with their
 *      tombstones); one day of archived and quarantined files is due today, on disk;
 *   2. times real CLI processes against it and against an empty data directory (the process's own
 *      start-up is most of a CLI command's time; the difference is the journal's):
 *      `fluxgate files --account X --state rejected`, `fluxgate files show <id>`;
 *   3. times `fluxgate jobs run retention` on it (a real run: it deletes today's due files);
 *   4. runs bench:intake's measurement (upload → report, one at a time, then a burst) on a server
 *      over that store and on one over an empty store, and prints the ratio.
 *
 * Targets (issue #19): files < 200 ms, files show < 50 ms, retention < 2 min, intake p50 within
 * 1.5× of the empty store's. Env: BENCH_JOURNAL_FILES, BENCH_JOURNAL_ACCOUNTS, BENCH_CLI_RUNS
 * (default 11), BENCH_FILES / BENCH_BURST (intake, default 200 / 100), BENCH_JOURNAL_KEEP=1 keeps
 * the data directory (its path is printed).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccountTree } from '../core/accounts/account-tree';
import { DataPaths } from '../core/config/paths';
import { openDatabase } from '../core/store/database';
import { SqliteJournalRepository } from '../core/store/journal-repository';
import { JournalReads } from '../core/store/journal-reader';
import { BIN, TestServer } from '../test/helpers/server';
import { INTAKE_SERVER_CONFIG, measureIntake, type IntakeFigures } from './intake';

const FILES = Number(process.env.BENCH_JOURNAL_FILES ?? 1_000_000);
const ACCOUNTS = Number(process.env.BENCH_JOURNAL_ACCOUNTS ?? 1_000);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 11);
const INTAKE_FILES = Number(process.env.BENCH_FILES ?? 200);
const INTAKE_BURST = Number(process.env.BENCH_BURST ?? 100);
const DAY = 86_400_000;
const HISTORY_DAYS = 400;
const ARCHIVE_DAYS = 45;
const QUARANTINE_DAYS = 90;

const accountId = (a: number): string => `acct${String(a).padStart(5, '0')}`;
const hex = (n: number): string => randomBytes(n).toString('hex');
/** Digests that look real without hashing anything (the bench never reads the files' content). */
const fakeDigest = (i: number, length: number): string => i.toString(16).padStart(length, '0');
const stamp = (at: number): string => new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);

interface Filled { seconds: number; sample: { account: string; fileId: string }; dueOnDisk: number }

/** Direct inserts in big transactions, in time order, as intake would have made them. */
function fill(dataDir: string, now: number): Filled {
  const started = performance.now();
  const paths = new DataPaths(dataDir);
  const db = openDatabase(paths.database);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  // The secondary indexes are built once the rows are in (a sort each, instead of a million
  // insertions into each): the same indexes in the end, in a fraction of the time.
  const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
    AND tbl_name IN ('files', 'file_events', 'outputs', 'queue', 'tombstones')`).all() as Array<{ name: string; sql: string }>;
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
  const insertAccount = db.prepare(`INSERT INTO accounts (id, profile, partner, enabled, allow_ips, options, created_at)
    VALUES (?, 'exchange', ?, 1, '[]', '{}', ?)`);
  db.transaction(() => {
    for (let a = 0; a < ACCOUNTS; a++) {
      insertAccount.run(accountId(a), accountId(a), now - HISTORY_DAYS * DAY);
      createAccountTree(paths.accountRoot(accountId(a)), 'exchange');
      // A report and its receipt the client has not fetched yet (recent: kept).
      writeFileSync(join(paths.accountRoot(accountId(a)), 'out', 'sal', `cdmat_${accountId(a)}_sal_recent.csv`), 'result;processed\n');
    }
  })();
  const file = db.prepare(`INSERT INTO files (id, account_id, profile, flux, workflow, original_path, name, size, sha1, sha256, received_at,
      state, attempts, outcome, location, report_path, receipt_path, receipt_written_at, report_written_at, naming, processed_at, updated_at)
    VALUES (?, ?, 'exchange', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const event = db.prepare('INSERT INTO file_events (file_id, at, type, detail) VALUES (?, ?, ?, ?)');
  const output = db.prepare(`INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)`);
  const job = db.prepare(`INSERT INTO queue (topic, dedup_key, account_id, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
    VALUES ('file.process', ?, ?, ?, 'done', ?, 1, 5, ?, ?)`);
  const tombstone = db.prepare(`INSERT INTO tombstones (file_id, account_id, path, name, size, sha256, rule, deleted_at, as_of, state, inode, detail)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', NULL, '{}')`);
  const fluxes = ['sal', 'sir', 'usr', 'sal', 'sal'];
  const first = now - HISTORY_DAYS * DAY;
  const step = (HISTORY_DAYS * DAY - 3_600_000) / FILES;
  let sample = { account: '', fileId: '' };
  let dueOnDisk = 0;
  const BATCH = 20_000;
  for (let start = 0; start < FILES; start += BATCH) {
    db.transaction(() => {
      for (let i = start; i < Math.min(FILES, start + BATCH); i++) {
        const receivedAt = Math.floor(first + i * step);
        const a = (i * 7919) % ACCOUNTS;
        const account = accountId(a);
        const flux = fluxes[i % fluxes.length];
        const id = `f_${stamp(receivedAt)}_${(i % 0x100000000).toString(16).padStart(8, '0')}`;
        const name = `ndmat_${account}_${account}_${flux}_hrmanager_v6_${stamp(receivedAt).slice(2)}.csv`;
        const processedAt = receivedAt + 40 + (i % 200);
        const root = paths.accountRoot(account);
        const kind = i % 200 === 0 ? 'dead' : i % 25 === 0 ? 'rejected' : 'processed';
        const kept = kind === 'processed' ? ARCHIVE_DAYS : QUARANTINE_DAYS;
        const age = now - (kind === 'processed' ? processedAt : receivedAt);
        // What retention left: deleted before today; due today (within a day past the period); kept.
        const deleted = age >= (kept + 1) * DAY;
        const due = !deleted && age >= kept * DAY;
        const location = kind === 'processed' ? join(paths.archive(account, flux), `${id}_${name}`) : join(paths.quarantine(account, flux), `${id}_${name}`);
        if (due) {
          mkdirSync(join(location, '..'), { recursive: true });
          writeFileSync(location, 'line-1\nline-2\n');
          dueOnDisk++;
        }
        const receipt = join(root, 'out', 'tra', `cdmat_${account}_tra_${flux}_${stamp(receivedAt).slice(2)}.xml`);
        const report = join(root, 'out', flux, `cdmat_${name.slice('ndmat_'.length)}`);
        const outcome = kind === 'processed'
          ? { result: 'processed', counts: { created: 3, updated: 12, unchanged: 180, rejected: 0 }, messages: 15 }
          : { result: kind, code: kind === 'dead' ? 'FG_HANDLER_FAILED' : 'FG_NAME_CONVENTION', summary: 'the file name does not follow the naming convention', counts: { created: 0, updated: 0, unchanged: 0, rejected: 0 }, messages: 1 };
        const naming = { dest: 'ndmat', partner: account, client: account, flux, app: 'hrmanager', version: 'v6', timestamp: stamp(receivedAt).slice(2), ext: 'csv', encrypted: false };
        file.run(id, account, flux, flux, `in/${flux}/${name}`, name, 4096 + (i % 5000), fakeDigest(i, 40), fakeDigest(i, 64), receivedAt,
          deleted ? 'deleted' : kind, JSON.stringify(outcome), location, report, receipt, receivedAt + 5, processedAt - 2,
          JSON.stringify(naming), processedAt, deleted ? now - (age - kept * DAY) : processedAt);
        const timeline: Array<[number, string, Record<string, unknown>]> = [
          [receivedAt, 'received', { path: `in/${flux}/${name}`, size: 4096, sha256: fakeDigest(i, 64) }],
          [receivedAt + 3, 'attempt', { attempt: 1, of: 5, workflow: flux }],
          [receivedAt + 5, 'receipt', { path: receipt }],
          [receivedAt + 6, 'step', { step: 'receipt', ms: 3 }],
          [receivedAt + 7, 'step', { step: 'check-name', ms: 0 }],
          [receivedAt + 30, 'handled', { counts: outcome.counts }],
          [receivedAt + 31, 'step', { step: 'handler', ms: 23 }],
          [processedAt - 2, 'report', { result: kind, counts: outcome.counts, summary: 'x', messages: [], messageCount: 15 }],
          [processedAt - 1, kind === 'processed' ? 'archived' : 'quarantined', { from: join(root, 'in', flux, name), to: location }],
          [processedAt, kind, outcome],
        ];
        if (deleted) timeline.push([receivedAt + (kept + 1) * DAY, 'deleted', { path: location, rule: kind === 'processed' ? 'archive' : 'quarantine', tombstone: 0 }]);
        for (const [at, type, detail] of timeline) event.run(id, at, type, JSON.stringify(detail));
        output.run(id, account, 'receipt', receipt, receivedAt + 5);
        output.run(id, account, 'report', report, processedAt - 2);
        job.run(id, account, JSON.stringify({ fileId: id }), receivedAt, receivedAt, processedAt);
        if (deleted) tombstone.run(id, account, location, `${id}_${name}`, 4096, fakeDigest(i, 64), kind === 'processed' ? 'archive' : 'quarantine', now - (age - kept * DAY), now - (age - kept * DAY));
        if (!sample.fileId && kind === 'rejected' && !deleted) sample = { account, fileId: id };
      }
    })();
    if ((start / BATCH) % 10 === 9) process.stdout.write(`  … ${start + BATCH} rows (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  const indexing = performance.now();
  for (const index of indexes) db.exec(index.sql);
  process.stdout.write(`  … ${indexes.length} indexes built in ${((performance.now() - indexing) / 1000).toFixed(0)} s\n`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { seconds: (performance.now() - started) / 1000, sample, dueOnDisk };
}

/**
 * Times commands from a lean Node process: the bench's own (tsx loaded, a million rows written
 * through it) takes ~20 ms longer to start any child (`node -e 0`: 51 ms from it, 33 ms from a
 * lean parent at the same moment, 2026-12-07), which is the parent's cost, not the command's.
 * The commands run in turns (so that the load of a shared machine weighs on all alike), each
 * CLI_RUNS times after a warm-up; prints the medians (ms). A command that fails fails the bench.
 */
const TIMER = `
const { execFileSync } = require('node:child_process');
const { runs, commands } = JSON.parse(process.argv[1]);
const times = commands.map(() => []);
for (let i = 0; i <= runs; i++) commands.forEach((c, k) => {
  const started = performance.now();
  execFileSync(c.file, c.args, { cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (i > 0) times[k].push(performance.now() - started);
});
console.log(JSON.stringify(times.map((v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)])));
`;

function leanMedians(commands: Array<{ file: string; args: string[]; cwd?: string }>): number[] {
  return JSON.parse(execFileSync(process.execPath, ['-e', TIMER, JSON.stringify({ runs: CLI_RUNS, commands })], { encoding: 'utf8' })) as number[];
}

const cliCommand = (server: TestServer, args: string[]) => ({ file: process.execPath, args: [BIN, '--config', server.configFile, ...args], cwd: server.dir });

/** Wall time of a CLI process against the full store and against the empty one. */
function cliMs(full: TestServer, fullArgs: string[], empty: TestServer, emptyArgs: string[]): { full: number; empty: number } {
  const [f, e] = leanMedians([cliCommand(full, fullArgs), cliCommand(empty, emptyArgs)]);
  return { full: f, empty: e };
}

/**
 * Wall time of a bare `node -e 0` on this machine now, from the same lean parent: the floor of
 * any CLI command, printed beside the figures so that they mean something on a loaded machine.
 */
function bareNodeMs(): number {
  return leanMedians([{ file: process.execPath, args: ['-e', '0'] }])[0];
}

/** The same query in this process, on the open store: what the command spends in the journal. */
function queryMs(dataDir: string, account: string, fileId: string): { list: number; show: number; listed: number } {
  const db = openDatabase(new DataPaths(dataDir).database);
  try {
    // The statements themselves, without the async port's microtask: what the query costs.
    const journal = new JournalReads(db);
    const time = (fn: () => unknown): number => {
      const runs: number[] = [];
      for (let i = 0; i < 9; i++) { const t = performance.now(); fn(); runs.push(performance.now() - t); }
      return runs.sort((a, b) => a - b)[4];
    };
    const listed = journal.list({ accountId: account, state: 'rejected' }).files.length;
    return {
      list: time(() => journal.list({ accountId: account, state: 'rejected' })),
      show: time(() => { journal.get(fileId); journal.events(fileId); }),
      listed,
    };
  } finally {
    db.close();
  }
}

async function intakeOn(server: TestServer): Promise<IntakeFigures> {
  await server.start();
  try {
    return await measureIntake(server, INTAKE_FILES, INTAKE_BURST);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const now = Date.now();
  const full = new TestServer({ config: INTAKE_SERVER_CONFIG });
  const empty = new TestServer({ config: INTAKE_SERVER_CONFIG });
  const out = (line = ''): void => { process.stdout.write(`${line}\n`); };
  try {
    out(`filling a journal of ${FILES.toLocaleString('en')} files over ${ACCOUNTS.toLocaleString('en')} accounts in ${full.dataDir}`);
    const filled = fill(full.dataDir, now);
    out(`filled in ${filled.seconds.toFixed(1)} s (${Math.round(FILES / filled.seconds).toLocaleString('en')} files/s, with their events, outputs, queue jobs, tombstones; ${filled.dueOnDisk} files due for retention today, on disk)`);
    // The empty store: the same account with one rejected file, for the same two commands.
    const emptyDb = openDatabase(new DataPaths(empty.dataDir).database);
    const only = (await new SqliteJournalRepository(emptyDb).insert({
      accountId: filled.sample.account, profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/x.csv', name: 'x.csv',
      size: 1, sha1: hex(20), sha256: hex(32), location: join(empty.dataDir, 'x.csv'),
    }))!;
    await new SqliteJournalRepository(emptyDb).finish(only.id, 'rejected', { result: 'rejected', code: 'FG_NAME_CONVENTION' });
    emptyDb.close();

    const { account, fileId } = filled.sample;
    const list = ['files', '--account', account, '--state', 'rejected'];
    const show = ['files', 'show', fileId];
    const q = queryMs(full.dataDir, account, fileId);
    const listed = cliMs(full, list, empty, list);
    const shown = cliMs(full, show, empty, ['files', 'show', only.id]);
    const bare = bareNodeMs();
    out('');
    out(`CLI processes (median of ${CLI_RUNS}), ${FILES.toLocaleString('en')}-file journal vs an empty one:`);
    out(`  fluxgate ${list.join(' ')}   ${listed.full.toFixed(0)} ms (empty store ${listed.empty.toFixed(0)} ms: the journal's share ${(listed.full - listed.empty).toFixed(0)} ms)   target < 200 ms`);
    out(`  fluxgate ${show.join(' ')}   ${shown.full.toFixed(0)} ms (empty store ${shown.empty.toFixed(0)} ms: the journal's share ${(shown.full - shown.empty).toFixed(0)} ms)   target < 50 ms`);
    out(`  node -e 0 (the floor of any command, this machine now)   ${bare.toFixed(0)} ms   load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    out(`  the same queries in-process on the open store: list ${q.list.toFixed(2)} ms (${q.listed} rows), show ${q.show.toFixed(2)} ms`);

    const retentionStarted = performance.now();
    const retention = await full.cli('jobs', 'run', 'retention', '--json');
    const retentionSeconds = (performance.now() - retentionStarted) / 1000;
    if (retention.code !== 0) throw new Error(`retention failed: ${retention.stderr}`);
    const counts = (JSON.parse(retention.stdout) as { counts?: Record<string, number> }).counts ?? {};
    out(`  fluxgate jobs run retention   ${retentionSeconds.toFixed(1)} s   target < 120 s   counts ${JSON.stringify(counts)}`);

    out('');
    out(`intake (bench:intake's measurement: ${INTAKE_FILES} files one at a time, then ${INTAKE_BURST} back to back):`);
    const base = await intakeOn(empty);
    const big = await intakeOn(full);
    const fmt = (f: IntakeFigures): string => `p50 ${f.p50.toFixed(1)} ms   p95 ${f.p95.toFixed(1)} ms   max ${f.max.toFixed(1)} ms   burst ${f.filesPerSecond.toFixed(1)} files/s`;
    out(`  empty store          ${fmt(base)}`);
    out(`  ${FILES.toLocaleString('en')}-file store   ${fmt(big)}`);
    out(`  ratio (full / empty) p50 ${(big.p50 / base.p50).toFixed(2)}×   p95 ${(big.p95 / base.p95).toFixed(2)}×   burst ${(big.filesPerSecond / base.filesPerSecond).toFixed(2)}×   target p50 ≤ 1.5×`);
  } finally {
    await full.stop();
    await empty.stop();
    if (process.env.BENCH_JOURNAL_KEEP === '1') out(`kept: ${full.dir}`);
    else await full.cleanup();
    await empty.cleanup();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
