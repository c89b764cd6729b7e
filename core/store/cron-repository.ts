import { hostname } from 'node:os';
import { FluxgateError } from '../errors';
import type { Database } from './database';
import type { CronRepository, CronRun, RunCounts, RunOutcome } from './ports/jobs';
import { processIsAlive } from './process-alive';

export interface RunRow {
  id: number; job: string; started_at: number; ended_at: number | null; outcome: RunOutcome;
  dry_run: number | boolean; as_of: number; counts: string; error: string | null; // dry_run: SQLite 0/1, PostgreSQL boolean
  slot: number | null; host: string | null; pid: number | null;
}
interface LockRow { job: string; run_id: number; pid: number; host: string; acquired_at: number }

export const toRun = (r: RunRow): CronRun => ({
  id: r.id, job: r.job, startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome,
  dryRun: r.dry_run === 1 || r.dry_run === true, asOf: r.as_of, counts: JSON.parse(r.counts) as RunCounts, error: r.error,
  slot: r.slot, host: r.host, pid: r.pid,
});

/** FG_JOB_SLOT_TAKEN for the run already begun for that job and slot: who ran it, how it went. */
export function slotTaken(job: string, slot: number, earlier: CronRun | undefined): FluxgateError {
  const by = earlier?.host ? `${earlier.host} (pid ${earlier.pid})` : 'another node';
  const how = earlier ? (earlier.outcome === 'running' ? 'still running' : earlier.outcome) : 'starting';
  return new FluxgateError('FG_JOB_SLOT_TAKEN',
    `job ${job} was already run by ${by} for ${new Date(slot).toISOString()} (run ${earlier?.id ?? '?'}, ${how}): each schedule runs once per cluster; the next one is not affected`,
    { job, slot, runId: earlier?.id ?? null, host: earlier?.host ?? null, pid: earlier?.pid ?? null, outcome: earlier?.outcome ?? null });
}

/** A lock held by a process on another machine is only presumed dead after this long. */
const FOREIGN_LOCK_TTL_MS = 24 * 3600_000;

/**
 * Run records (`cron_runs`) and the per-job lock (`cron_locks`) that keeps runs from
 * overlapping across processes (the server's schedule and `fluxgate jobs run` by hand).
 * A lock whose process is gone is taken over, and its run is recorded as interrupted.
 */
export class SqliteCronRepository implements CronRepository {
  constructor(private readonly db: Database) {}

  /**
   * Records a run as started and takes the job's lock; FG_JOB_RUNNING if a live process holds it,
   * FG_JOB_SLOT_TAKEN if a run of this job and slot was already begun (checked first: the one
   * still running it is not "another run in the way").
   */
  async begin(job: string, asOf: number, now = Date.now(), slot?: number): Promise<CronRun> {
    const tx = this.db.transaction(() => {
      if (slot !== undefined) {
        const earlier = this.db.prepare('SELECT * FROM cron_runs WHERE job = ? AND slot = ?').get(job, slot) as RunRow | undefined;
        if (earlier) throw slotTaken(job, slot, toRun(earlier));
      }
      const lock = this.db.prepare('SELECT * FROM cron_locks WHERE job = ?').get(job) as LockRow | undefined;
      if (lock) {
        if (lockIsHeld(lock, now)) {
          throw new FluxgateError('FG_JOB_RUNNING', `job ${job} is already running (run ${lock.run_id}, pid ${lock.pid} on ${lock.host})`, { job, runId: lock.run_id });
        }
        this.db.prepare(`UPDATE cron_runs SET outcome = 'interrupted', ended_at = ?, error = 'the process running it stopped before it finished'
          WHERE id = ? AND outcome = 'running'`).run(now, lock.run_id);
        this.db.prepare('DELETE FROM cron_locks WHERE job = ?').run(job);
      }
      const id = Number(this.db.prepare(`INSERT INTO cron_runs (job, started_at, outcome, dry_run, as_of, slot, host, pid) VALUES (?, ?, 'running', 0, ?, ?, ?, ?)`)
        .run(job, now, asOf, slot ?? null, hostname(), process.pid).lastInsertRowid);
      this.db.prepare('INSERT INTO cron_locks (job, run_id, pid, host, acquired_at) VALUES (?, ?, ?, ?, ?)')
        .run(job, id, process.pid, hostname(), now);
      return id;
    });
    return this.getNow(tx.immediate())!;
  }

  /** Records the end of a run and releases the lock it holds. */
  async finish(runId: number, outcome: Exclude<RunOutcome, 'running'>, counts: RunCounts, error: string | null = null, now = Date.now()): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE cron_runs SET outcome = ?, ended_at = ?, counts = ?, error = ? WHERE id = ?')
        .run(outcome, now, JSON.stringify(counts), error, runId);
      this.db.prepare('DELETE FROM cron_locks WHERE run_id = ?').run(runId);
    }).immediate();
  }

  /** Marks runs whose process died (lock no longer held) as interrupted; returns how many. */
  async reapInterrupted(now = Date.now()): Promise<number> {
    let reaped = 0;
    this.db.transaction(() => {
      for (const lock of this.db.prepare('SELECT * FROM cron_locks').all() as LockRow[]) {
        if (lockIsHeld(lock, now)) continue;
        reaped += this.db.prepare(`UPDATE cron_runs SET outcome = 'interrupted', ended_at = ?, error = 'the process running it stopped before it finished'
          WHERE id = ? AND outcome = 'running'`).run(now, lock.run_id).changes;
        this.db.prepare('DELETE FROM cron_locks WHERE job = ?').run(lock.job);
      }
    }).immediate();
    return reaped;
  }

  async get(id: number): Promise<CronRun | undefined> {
    return this.getNow(id);
  }

  private getNow(id: number): CronRun | undefined {
    const row = this.db.prepare('SELECT * FROM cron_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  async lastRun(job: string): Promise<CronRun | undefined> {
    const row = this.db.prepare('SELECT * FROM cron_runs WHERE job = ? ORDER BY id DESC LIMIT 1').get(job) as RunRow | undefined;
    return row && toRun(row);
  }

  async runs(job: string, limit = 20): Promise<CronRun[]> {
    return (this.db.prepare('SELECT * FROM cron_runs WHERE job = ? ORDER BY id DESC LIMIT ?').all(job, limit) as RunRow[]).map(toRun);
  }
}

function lockIsHeld(lock: LockRow, now: number): boolean {
  if (lock.host !== hostname()) return now - lock.acquired_at < FOREIGN_LOCK_TTL_MS;
  return processIsAlive(lock.pid);
}

