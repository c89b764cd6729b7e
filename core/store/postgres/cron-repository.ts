import { hostname } from 'node:os';
import type { Client } from 'pg';
import { FluxgateError } from '../../errors';
import { slotTaken, toRun, type RunRow } from '../cron-repository';
import type { CronRepository, CronRun, RunCounts, RunOutcome } from '../ports/jobs';
import { connectPostgres } from './connect';
import type { PgPool } from './pool';

/** First key of the jobs' advisory locks (the second is the job name's hash): "flux", 3. */
const CRON_LOCK_CLASS = 0x666c7503;
const INTERRUPTED = 'the process running it stopped before it finished';

interface LockRow { job: string; run_id: number; pid: number; host: string }

/**
 * Run records and job locks in PostgreSQL, for a cluster. A job's lock is a session advisory
 * lock held, for the run's length, by a connection of its own: two nodes beginning the same job
 * at once get one run, and when the node running it dies its connection closes and the lock is
 * free at once (a node that vanishes without closing it is noticed by the server's TCP
 * keepalives, set short on that connection). `cron_locks` still records who holds each lock,
 * for the messages and `store copy`.
 */
export class PostgresCronRepository implements CronRepository {
  /** The connection holding each running job's lock, by run id. */
  private readonly held = new Map<number, Client>();

  constructor(private readonly db: PgPool) {}

  /**
   * A scheduled run claims its slot first, by the unique index on (job, slot): a node beginning
   * the same slot at the same moment waits for this unit of work and then finds it taken
   * (FG_JOB_SLOT_TAKEN), as does a late one after the run ended. Then the job's lock: if it is
   * held (FG_JOB_RUNNING) the unit of work rolls back and the slot is free again.
   */
  async begin(job: string, asOf: number, now = Date.now(), slot?: number): Promise<CronRun> {
    const lock = await this.lockConnection();
    try {
      const run = await this.db.transaction(async (tx) => {
        const row = await tx.row<RunRow>(`INSERT INTO cron_runs (job, started_at, outcome, dry_run, as_of, slot, host, pid)
          VALUES ($1, $2, 'running', FALSE, $3, $4, $5, $6) ON CONFLICT (job, slot) WHERE slot IS NOT NULL DO NOTHING RETURNING *`,
        [job, now, asOf, slot ?? null, hostname(), process.pid]);
        if (!row) {
          // READ COMMITTED: this statement sees the run that won, committed while the insert waited.
          const earlier = await tx.row<RunRow>('SELECT * FROM cron_runs WHERE job = $1 AND slot = $2', [job, slot]);
          throw slotTaken(job, slot!, earlier && toRun(earlier));
        }
        if (!await tryLock(lock, job)) {
          const holder = await tx.row<LockRow>('SELECT * FROM cron_locks WHERE job = $1', [job]);
          throw new FluxgateError('FG_JOB_RUNNING', holder
            ? `job ${job} is already running (run ${holder.run_id}, pid ${holder.pid} on ${holder.host})`
            : `job ${job} is already running (another node is starting it)`, { job, runId: holder?.run_id ?? null });
        }
        // The lock is ours, so whoever left a lock row is gone: its run was interrupted.
        await tx.run(`UPDATE cron_runs SET outcome = 'interrupted', ended_at = $1, error = $2
          WHERE id = (SELECT run_id FROM cron_locks WHERE job = $3) AND outcome = 'running'`, [now, INTERRUPTED, job]);
        await tx.run('DELETE FROM cron_locks WHERE job = $1', [job]);
        await tx.run('INSERT INTO cron_locks (job, run_id, pid, host, acquired_at) VALUES ($1, $2, $3, $4, $5)', [job, row.id, process.pid, hostname(), now]);
        return toRun(row);
      });
      this.held.set(run.id, lock);
      // Losing this connection frees the lock while the job runs on: say so (another node may start the job).
      lock.on('error', (err) => {
        if (this.held.get(run.id) === lock) this.db.logger?.error({ err, job, runId: run.id, code: 'FG_STORE_UNREACHABLE' }, 'the connection holding the job\'s lock was lost: another node may run it too');
      });
      return run;
    } catch (err) {
      await lock.end().catch(() => {}); // closing it releases the lock if it was taken
      throw err;
    }
  }

  async finish(runId: number, outcome: Exclude<RunOutcome, 'running'>, counts: RunCounts, error: string | null = null, now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE cron_runs SET outcome = $1, ended_at = $2, counts = $3, error = $4 WHERE id = $5', [outcome, now, JSON.stringify(counts), error, runId]);
      await tx.run('DELETE FROM cron_locks WHERE run_id = $1', [runId]);
    });
    const lock = this.held.get(runId);
    this.held.delete(runId);
    await lock?.end().catch(() => {});
  }

  /** Marks runs whose node died (their lock is free) as interrupted; returns how many. */
  async reapInterrupted(now = Date.now()): Promise<number> {
    const locks = (await this.db.rows<LockRow>('SELECT * FROM cron_locks')).filter((l) => !this.held.has(l.run_id));
    if (locks.length === 0) return 0;
    const probe = await this.lockConnection();
    let reaped = 0;
    try {
      for (const l of locks) {
        if (!await tryLock(probe, l.job)) continue; // its holder lives
        try {
          reaped += await this.db.transaction(async (tx) => {
            const n = await tx.run(`UPDATE cron_runs SET outcome = 'interrupted', ended_at = $1, error = $2 WHERE id = $3 AND outcome = 'running'`, [now, INTERRUPTED, l.run_id]);
            await tx.run('DELETE FROM cron_locks WHERE job = $1 AND run_id = $2', [l.job, l.run_id]);
            return n;
          });
        } finally {
          await probe.query('SELECT pg_advisory_unlock($1, hashtext($2))', [CRON_LOCK_CLASS, l.job]);
        }
      }
    } finally {
      await probe.end().catch(() => {});
    }
    return reaped;
  }

  async get(id: number): Promise<CronRun | undefined> {
    const row = await this.db.row<RunRow>('SELECT * FROM cron_runs WHERE id = $1', [id]);
    return row && toRun(row);
  }

  async lastRun(job: string): Promise<CronRun | undefined> {
    const row = await this.db.row<RunRow>('SELECT * FROM cron_runs WHERE job = $1 ORDER BY id DESC LIMIT 1', [job]);
    return row && toRun(row);
  }

  async runs(job: string, limit = 20): Promise<CronRun[]> {
    return (await this.db.rows<RunRow>('SELECT * FROM cron_runs WHERE job = $1 ORDER BY id DESC LIMIT $2', [job, limit])).map(toRun);
  }

  /** Ends the connections of the runs still going (as a node that dies would): their locks are free. */
  async close(): Promise<void> {
    const locks = [...this.held.values()];
    this.held.clear();
    await Promise.all(locks.map((c) => c.end().catch(() => {})));
  }

  /**
   * A connection outside the pool (a long job must not hold one of the pool's), whose death the
   * server notices within about half a minute even if the node vanishes without closing it.
   */
  private async lockConnection(): Promise<Client> {
    const client = await connectPostgres(this.db.url, { application_name: 'fluxgate job lock' });
    try {
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    return client;
  }
}

async function tryLock(client: Client, job: string): Promise<boolean> {
  return (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [CRON_LOCK_CLASS, job])).rows[0].ok;
}
