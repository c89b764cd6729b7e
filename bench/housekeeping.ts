/**
 * `npm run bench:housekeeping`: a first housekeeping run on a store that never had one. On a
 * fresh store per engine (SQLite: a temporary file; PostgreSQL: a fresh database on
 * FLUXGATE_TEST_POSTGRES_URL, else a private cluster, as the tests get one), fills
 * BENCH_HOUSEKEEPING_ROWS (default 300,000) done queue jobs older than queueDoneDays and as many
 * events older than eventDays, each with one delivery (two in three delivered, one in three
 * failed: those events stay), then runs the job as `jobs run` does and prints:
 *
 *   - the run's time and counts;
 *   - each chunk's time (median, p99, max): how long a chunk holds SQLite's writer or
 *     PostgreSQL's row locks;
 *   - the event loop's longest stall during the run (perf_hooks' monitorEventLoopDelay): what
 *     an SFTP session of the same process waits for at worst.
 *
 * PostgreSQL's tables are ANALYZEd after the fill, as autovacuum has done to a table that grew
 * over months; a table loaded in bulk and never analyzed gets plans that read every done job.
 *
 * Not part of `npm test`: the machines are shared and noisy, figures are read, not asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../core/config/load';
import { JobRegistry } from '../core/cron/registry';
import { JobRunner } from '../core/cron/runner';
import { silentLogger } from '../core/logging/logger';
import { openDatabase } from '../core/store/database';
import { HousekeepingJob } from '../core/retention/housekeeping-job';
import type { ChunkRequest, HousekeepingRepository } from '../core/store/ports/housekeeping';
import type { Store } from '../core/store/ports/store';
import { PostgresStore } from '../core/store/postgres/postgres-store';
import { SqliteStore } from '../core/store/sqlite-store';
import { freshDatabase } from '../test/helpers/postgres';

const ROWS = Number(process.env.BENCH_HOUSEKEEPING_ROWS ?? 300_000);
const DAY = 24 * 3600_000;

type Sql = (text: string, params: unknown[]) => Promise<void>;

/** The same statements on both engines (`?` placeholders; (1 = 1) is true on both). */
async function fill(engine: string, sql: Sql, now: number): Promise<void> {
  const series = 'WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)';
  await sql(`${series} INSERT INTO queue (topic, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT 'file.process', '{"fileId":"f"}', 'done', CAST(? AS BIGINT) - i, 1, 5, CAST(? AS BIGINT) - i, CAST(? AS BIGINT) - i FROM k`,
  [ROWS, now - 8 * DAY, now - 8 * DAY, now - 8 * DAY]);
  await sql(`${series} INSERT INTO events (id, type, at, account_id, file_id, routed)
    SELECT 'evt_bench_' || CAST(i AS TEXT), 'file.processed', CAST(? AS BIGINT) - i, 'acme', 'f', (1 = 1) FROM k`, [ROWS, now - 91 * DAY]);
  await sql(`INSERT INTO deliveries (event_id, subscription, channel, state, attempts, due_at, retry_from, created_at, updated_at)
    SELECT id, 'webhook:ops', 'webhook', CASE WHEN seq % 3 = 0 THEN 'failed' ELSE 'delivered' END, 1, at, at, at, at FROM events`, []);
  // Tables grown over months have statistics (autovacuum's ANALYZE): without them PostgreSQL's
  // planner guesses a handful of rows and sorts the whole done set, or scans deliveries, per chunk.
  if (engine === 'postgres') await sql('ANALYZE queue, events, deliveries', []);
}

/** The repository, each chunk timed, by table. */
function timed(repo: HousekeepingRepository, chunks: { queue: number[]; events: number[] }): HousekeepingRepository {
  const time = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try { return await fn(); } finally { into.push(performance.now() - start); }
  };
  return {
    deleteDoneJobs: (r: ChunkRequest) => time(chunks.queue, () => repo.deleteDoneJobs(r)),
    deleteFinishedEvents: (r: ChunkRequest) => time(chunks.events, () => repo.deleteFinishedEvents(r)),
  };
}

/** The event loop's longest stall over `ms` of doing nothing: the machine's own noise, to read the run's against. */
async function idleStall(ms: number): Promise<number> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await new Promise((r) => setTimeout(r, ms));
  loop.disable();
  return loop.max / 1e6;
}

const at = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

async function measure(engine: string, store: Store, sql: Sql): Promise<void> {
  const now = Date.now();
  const filling = performance.now();
  await fill(engine, sql, now);
  console.log(`  ${engine.padEnd(8)} filled ${ROWS} done jobs, ${ROWS} events and deliveries in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
  const chunks = { queue: [] as number[], events: [] as number[] };
  const runner = new JobRunner(new JobRegistry([new HousekeepingJob(parseConfig({}), timed(store.housekeeping, chunks))]), store.cronRuns, silentLogger());
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const report = await runner.run('housekeeping', { asOf: now });
  loop.disable();
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`  ${engine.padEnd(8)} run ${report.outcome} in ${((report.endedAt - report.startedAt) / 1000).toFixed(1)} s: ${JSON.stringify(report.counts)}`);
  for (const [table, xs] of Object.entries(chunks)) {
    console.log(`  ${engine.padEnd(8)} ${table.padEnd(6)} ${xs.length} chunks: median ${ms(at(xs, 0.5))}, p99 ${ms(at(xs, 0.99))}, max ${ms(Math.max(...xs))}`);
  }
  const seconds = Math.min(5_000, Math.max(1_000, report.endedAt - report.startedAt));
  console.log(`  ${engine.padEnd(8)} event loop's longest stall: ${ms(loop.max / 1e6)} during the run, ${ms(await idleStall(seconds))} over ${(seconds / 1000).toFixed(1)} s idle`);
}

async function main(): Promise<void> {
  console.log(`housekeeping's first run over ${ROWS} old done jobs and ${ROWS} old events (one delivery each, a third unfinished)`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-hk-'));
  const sqlite = SqliteStore.open(join(dir, 'fluxgate.db'));
  const raw = openDatabase(join(dir, 'fluxgate.db'));
  try {
    await measure('sqlite', sqlite, (text, params) => { raw.prepare(text).run(...params); return Promise.resolve(); });
  } finally {
    raw.close();
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const fresh = await freshDatabase();
  const pg = await PostgresStore.open(fresh.url, silentLogger());
  try {
    await measure('postgres', pg, async (text, params) => {
      let n = 0;
      await pg.pool.run(text.replace(/\?/g, () => `$${++n}`), params);
    });
  } finally {
    await pg.close();
    await fresh.drop();
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
