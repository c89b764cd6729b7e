import { hostname } from 'node:os';
import type { Database } from './database';

const HOST = hostname();

export type JobState = 'ready' | 'leased' | 'done' | 'dead';

export interface Job<P = unknown> {
  id: number;
  topic: string;
  dedupKey: string | null;
  accountId: string | null;
  payload: P;
  state: JobState;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

interface JobRow {
  id: number; topic: string; dedup_key: string | null; account_id: string | null; payload: string;
  state: JobState; run_at: number; attempts: number; max_attempts: number; lease_until: number | null;
  last_error: string | null; created_at: number; updated_at: number;
}

const toJob = <P>(r: JobRow): Job<P> => ({
  id: r.id, topic: r.topic, dedupKey: r.dedup_key, accountId: r.account_id, payload: JSON.parse(r.payload) as P,
  state: r.state, runAt: r.run_at, attempts: r.attempts, maxAttempts: r.max_attempts, leaseUntil: r.lease_until,
  lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at,
});

export interface NewJob {
  topic: string;
  payload: unknown;
  maxAttempts: number;
  /** While a job with this key is ready or leased, enqueueing the same key again does nothing. */
  dedupKey?: string;
  accountId?: string;
  runAt?: number;
}

/** A job that can be leased now: ready and due, or leased by a worker whose lease ran out. */
const DUE = `((state = 'ready' AND run_at <= @now) OR (state = 'leased' AND lease_until < @now))`;

/** SQL over the `queue` table. Leasing is one UPDATE … RETURNING, so two workers never get the same job. */
export class QueueRepository {
  private readonly leaseNext;
  private readonly anyDue;

  constructor(private readonly db: Database) {
    this.leaseNext = db.prepare(`UPDATE queue SET state = 'leased', lease_until = @leaseUntil, attempts = attempts + 1, updated_at = @now,
        leased_pid = @pid, leased_host = @host
      WHERE id = (
        SELECT id FROM queue
        WHERE topic = @topic
          AND ${DUE}
          AND (account_id IS NULL OR account_id NOT IN (SELECT value FROM json_each(@skip)))
        ORDER BY run_at, id LIMIT 1)
      RETURNING *`);
    this.anyDue = db.prepare(`SELECT 1 FROM queue WHERE topic = @topic AND ${DUE} LIMIT 1`).pluck();
  }

  /** Returns the new job, or the live job already holding the dedup key. */
  insert(job: NewJob, now = Date.now()): { job: Job; created: boolean } {
    const r = this.db.prepare(`INSERT INTO queue (topic, dedup_key, account_id, payload, state, run_at, max_attempts, created_at, updated_at)
      VALUES (@topic, @dedupKey, @accountId, @payload, 'ready', @runAt, @maxAttempts, @now, @now)
      ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('ready', 'leased') DO NOTHING`).run({
      topic: job.topic, dedupKey: job.dedupKey ?? null, accountId: job.accountId ?? null,
      payload: JSON.stringify(job.payload), runAt: job.runAt ?? now, maxAttempts: job.maxAttempts, now,
    });
    if (r.changes > 0) return { job: this.get(Number(r.lastInsertRowid))!, created: true };
    const existing = this.db.prepare(`SELECT * FROM queue WHERE dedup_key = ? AND state IN ('ready', 'leased')`).get(job.dedupKey) as JobRow;
    return { job: toJob(existing), created: false };
  }

  get(id: number): Job | undefined {
    const row = this.db.prepare('SELECT * FROM queue WHERE id = ?').get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  /**
   * Leases the next due job of the topic (ready and due, or leased with an expired lease),
   * skipping the given accounts (those at their concurrency limit).
   */
  lease<P>(topic: string, leaseMs: number, skipAccounts: readonly string[], now = Date.now()): Job<P> | undefined {
    // Most polls find nothing: a read answers them without taking the write lock, which a
    // RESTART checkpoint or another process (a CLI command) may hold.
    if (this.anyDue.get({ topic, now }) === undefined) return undefined;
    const row = this.leaseNext.get({ topic, now, leaseUntil: now + leaseMs, skip: JSON.stringify(skipAccounts), pid: process.pid, host: HOST }) as JobRow | undefined;
    return row && toJob<P>(row);
  }

  complete(id: number, now = Date.now()): void {
    this.db.prepare(`UPDATE queue SET state = 'done', lease_until = NULL, updated_at = ? WHERE id = ?`).run(now, id);
  }

  /** Back to ready at runAt (the attempt failed). */
  reschedule(id: number, runAt: number, error: string, now = Date.now()): void {
    this.db.prepare(`UPDATE queue SET state = 'ready', run_at = ?, lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ?`)
      .run(runAt, error, now, id);
  }

  /** Back to ready at runAt, the attempt it just used given back (one more allowed): not the job's fault. */
  postpone(id: number, runAt: number, error: string, now = Date.now()): void {
    this.db.prepare(`UPDATE queue SET state = 'ready', run_at = ?, lease_until = NULL, last_error = ?, max_attempts = max_attempts + 1, updated_at = ? WHERE id = ?`)
      .run(runAt, error, now, id);
  }

  kill(id: number, error: string, now = Date.now()): void {
    this.db.prepare(`UPDATE queue SET state = 'dead', lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ?`)
      .run(error, now, id);
  }

  /** Single node: at start-up no lease can be held by a live worker, so give them all back. */
  releaseAllLeases(now = Date.now()): number {
    return this.db.prepare(`UPDATE queue SET state = 'ready', lease_until = NULL, run_at = MIN(run_at, ?), updated_at = ? WHERE state = 'leased'`)
      .run(now, now).changes;
  }

  /** Earliest run_at of a ready job of the topic, to sleep until then. */
  nextDue(topic: string): number | undefined {
    const row = this.db.prepare(`SELECT MIN(run_at) AS at FROM queue WHERE topic = ? AND state = 'ready'`).get(topic) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Keeps a long-running job's lease from expiring while its worker is alive. */
  extendLease(id: number, leaseMs: number, now = Date.now()): void {
    this.db.prepare(`UPDATE queue SET lease_until = ? WHERE id = ? AND state = 'leased'`).run(now + leaseMs, id);
  }

  list(filter: { topic?: string; state?: JobState } = {}): Job[] {
    const where: string[] = [];
    if (filter.topic) where.push('topic = @topic');
    if (filter.state) where.push('state = @state');
    return (this.db.prepare(`SELECT * FROM queue ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`).all(filter) as JobRow[]).map((r) => toJob(r));
  }
}

