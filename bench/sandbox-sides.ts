/**
 * `npm run bench:sandbox-sides`: the two sides of a sandboxed sal file (bench:sal's (s)), each
 * alone in a process of its own, in CPU seconds (what a loaded machine changes least):
 *   sandbox: the sal handler over a generated file (BENCH_ROWS, default 200,000) with the
 *            sandbox's record reader and batch encoding (encodeBatch, spoolBatch), its batches
 *            answered at once, under the sandbox's heap flags (--max-old-space-size=256
 *            --initial-old-space-size=128; BENCH_SANDBOX_FLAGS replaces them);
 *   engine:  the engine's worker's part of the same batches, replayed from their spool files into
 *            a fresh SQLite directory: read and deserialize, decode, apply (createEmployeeRows for
 *            a batch of new employees; BENCH_DECODE=ops takes the general path, decodeBatch and
 *            applyBatch, as before 2026-12-07 sandbox-sal).
 * No server, no FIFOs, no second process at once: it measures the work, not the hand-offs.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FluxContext, IncomingFile } from '../core/plugin-api';
import { readRecords } from '../core/records';
import { readSpooled, spoolBatch } from '../core/sandbox/batch-spool';
import { decodeBatch, decodeCreates, encodeBatch } from '../core/sandbox/batch-wire';
import { openDatabase } from '../core/store/database';
import { SqliteDirectoryRepository } from '../core/store/directory-repository';
import { applyBatch } from '../core/workflow/account-directory';
import { CollectingReportBuilder } from '../core/workflow/report-builder';
import { SalHandler } from '../plugins/sal/handler';
import { generate, SAL } from './sal';

const ORGS = ['ACME', 'ACME-FR', 'ACME-DE', 'ACME-FR-PAR', 'ACME-FR-LYO', 'ACME-DE-BER', 'ACME-US'];
const cpu = (since: NodeJS.CpuUsage): number => { const u = process.cpuUsage(since); return (u.user + u.system) / 1e6; };

/** The sandbox's side: batches spooled into `dir`/spool. */
async function sandboxSide(dir: string): Promise<void> {
  const file = join(dir, SAL);
  const spool = join(dir, 'spool');
  mkdirSync(spool);
  let n = 0;
  const noop = () => undefined;
  const ctx = {
    apply: true, attempt: 2, signal: new AbortController().signal, report: new CollectingReportBuilder(),
    log: { warn: noop, info: noop, debug: noop, error: noop },
    records: (o: Parameters<FluxContext['records']>[0]) => readRecords(file, { ...o, fileName: SAL }),
    directory: {
      listOrganizations: () => Promise.resolve(ORGS.map((code) => ({ code, name: code, parentCode: null, attributes: {} }))),
      forgetPrevious: () => Promise.resolve(0),
      // As the child does (child.ts, child-channel.ts); every row new, answered on the next turn.
      batch: (ops: unknown[]) => new Promise((resolve) => { spoolBatch(spool, ++n, encodeBatch(ops)); setImmediate(() => resolve(ops.map(() => true))); }),
    },
  } as unknown as FluxContext;
  const since = process.cpuUsage();
  const outcome = await new SalHandler().handle({ id: 'f_bench', name: SAL } as IncomingFile, ctx);
  console.log(`sandbox side: ${cpu(since).toFixed(2)} s CPU (${outcome.summary}; ${n} batches)`);
}

/** The engine's side: the spooled batches applied to a fresh SQLite directory. */
async function engineSide(dir: string): Promise<void> {
  const spool = join(dir, 'spool');
  const work = join(dir, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  const names = readdirSync(spool).map(Number).sort((a, b) => a - b);
  for (const k of names) copyFileSync(join(spool, String(k)), join(work, String(k))); // readSpooled removes each
  const db = openDatabase(join(dir, `engine-${Date.now()}.sqlite`));
  db.prepare("INSERT INTO accounts (id, profile, created_at) VALUES ('acme', 'exchange', 0)").run();
  db.pragma('wal_autocheckpoint = 0'); // as the sandbox's worker beside the server's checkpointer
  const store = new SqliteDirectoryRepository(db);
  const general = process.env.BENCH_DECODE === 'ops';
  const spent = { read: 0, decode: 0, apply: 0 };
  const since = process.cpuUsage();
  for (const k of names) {
    let t = process.cpuUsage();
    const raw = readSpooled(work, k);
    spent.read += cpu(t);
    t = process.cpuUsage();
    const creates = general ? undefined : decodeCreates(raw);
    const ops = creates ? undefined : decodeBatch(raw);
    spent.decode += cpu(t);
    t = process.cpuUsage();
    await (creates ? store.createEmployeeRows('acme', creates.rows, creates.options) : applyBatch(store, 'acme', 'sal', ops));
    spent.apply += cpu(t);
  }
  console.log(`engine side (${general ? 'decodeBatch + applyBatch' : 'createEmployeeRows'}): ${cpu(since).toFixed(2)} s CPU `
    + `(read and deserialize ${spent.read.toFixed(2)} s, decode ${spent.decode.toFixed(2)} s, apply ${spent.apply.toFixed(2)} s)`);
  db.close();
}

async function main(): Promise<void> {
  const [side, dir] = process.argv.slice(2);
  if (side === 'sandbox') return sandboxSide(dir);
  if (side === 'engine') return engineSide(dir);
  const root = mkdtempSync(join(tmpdir(), 'fg-bench-sides-'));
  try {
    await generate(join(root, SAL));
    const flags = (process.env.BENCH_SANDBOX_FLAGS ?? '--max-old-space-size=256 --initial-old-space-size=128').split(' ').filter(Boolean);
    const run = (nodeFlags: string[], side: string) => execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', __filename, side, root], { stdio: 'inherit' });
    run(flags, 'sandbox');
    run([], 'engine');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
