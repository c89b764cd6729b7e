import { hostname } from 'node:os';
import { FluxgateError } from '../errors';
import type { Database } from './database';
import { holderIsDeadHere } from './process-alive';
import type { ClaimRequest, Job, JobState, LeaseRef, NewJob, QueueRepository } from './ports/queue';

export type { ClaimRequest, Job, JobState, LeaseRef, NewJob, QueueRepository } from './ports/queue';
export { leaseOf } from './ports/queue';

const HOST = hostname();

/** A `queue` row as both engines store it (PostgreSQL's repository maps it with toJob too). */
export interface JobRow {
  id: number; topic: string; dedup_key: string | null; account_id: string | null; payload: string;
  state: JobState; run_at: number; attempts: number; max_attempts: number; lease_until: number | null;
  last_error: string | null; created_at: number; updated_at: number;
}

export const toJob = <P>(r: JobRow): Job<P> => ({
  id: r.id, topic: r.topic, dedupKey: r.dedup_key, accountId: r.account_id, payload: JSON.parse(r.payload) as P,
  state: r.state, runAt: r.run_at, attempts: r.attempts, maxAttempts: r.max_attempts, leaseUntil: r.lease_until,
  lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** A job that can be leased now: ready and due, or leased by a worker whose lease ran out. */
const DUE = `((state = 'ready' AND run_at <= @now) OR (state = 'leased' AND lease_until < @now))`;
/** The job is still leased under this lease (a takeover added an attempt: see LeaseRef). */
const HELD = `id = @jobId AND state = 'leased' AND attempts = @token`;

/**
 * The `queue` table on SQLite. Leasing is one UPDATE … RETURNING per job inside one write
 * transaction (claim), so two holders never get the same job; every change to a leased job
 * names its lease (HELD) and is refused when it was taken over.
 */
export class SqliteQueueRepository implements QueueRepository {
  private readonly leaseNext;
  private readonly anyDue;
  private readonly insertJob;
  private readonly byId;
  private readonly liveByKey;
  private readonly holds;
  private readonly settle = new Map<string, ReturnType<Database['prepare']>>();

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
    this.insertJob = db.prepare(`INSERT INTO queue (topic, dedup_key, account_id, payload, state, run_at, max_attempts, created_at, updated_at)
      VALUES (@topic, @dedupKey, @accountId, @payload, 'ready', @runAt, @maxAttempts, @now, @now)
      ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('ready', 'leased') DO NOTHING`);
    this.byId = db.prepare('SELECT * FROM queue WHERE id = ?');
    this.liveByKey = db.prepare(`SELECT * FROM queue WHERE dedup_key = ? AND state IN ('ready', 'leased')`);
    this.holds = db.prepare(`SELECT 1 FROM queue WHERE ${HELD}`).pluck();
  }

  /** insert, synchronously: for the units of work of core/store that add a job in their transaction. */
  insertNow(job: NewJob, now = Date.now()): { job: Job; created: boolean } {
    const r = this.insertJob.run({
      topic: job.topic, dedupKey: job.dedupKey ?? null, accountId: job.accountId ?? null,
      payload: JSON.stringify(job.payload), runAt: job.runAt ?? now, maxAttempts: job.maxAttempts, now,
    });
    if (r.changes > 0) return { job: toJob(this.byId.get(Number(r.lastInsertRowid)) as JobRow), created: true };
    return { job: toJob(this.liveByKey.get(job.dedupKey) as JobRow), created: false };
  }

  /** FG_LEASE_LOST unless the lease is still held, synchronously: for a unit of work's transaction (the journal's final transitions). */
  mustHold(lease: LeaseRef): void {
    if (this.holds.get(lease) === undefined) throw leaseLost(lease);
  }

  async insert(job: NewJob, now = Date.now()): Promise<{ job: Job; created: boolean }> {
    return this.insertNow(job, now);
  }

  async get(id: number): Promise<Job | undefined> {
    const row = this.byId.get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  async claim<P>(request: ClaimRequest): Promise<Array<Job<P>>> {
    const { topic, leaseMs, max, perAccount, now = Date.now() } = request;
    if (max <= 0) return [];
    // Most polls find nothing: a read answers them without taking the write lock, which a
    // RESTART checkpoint or another process (a CLI command) may hold.
    if (this.anyDue.get({ topic, now }) === undefined) return [];
    return this.db.transaction(() => {
      const held = new Map(Object.entries(request.held));
      const jobs: Array<Job<P>> = [];
      while (jobs.length < max) {
        const skip = [...held].filter(([, n]) => n >= perAccount).map(([account]) => account);
        const row = this.leaseNext.get({ topic, now, leaseUntil: now + leaseMs, skip: JSON.stringify(skip), pid: process.pid, host: HOST }) as JobRow | undefined;
        if (!row) break;
        const job = toJob<P>(row);
        if (job.accountId) held.set(job.accountId, (held.get(job.accountId) ?? 0) + 1);
        jobs.push(job);
      }
      return jobs;
    })();
  }

  async renew(lease: LeaseRef, leaseMs: number, now = Date.now()): Promise<boolean> {
    return this.change('lease_until = @leaseUntil', { ...lease, leaseUntil: now + leaseMs });
  }

  async complete(lease: LeaseRef, now = Date.now()): Promise<void> {
    this.mustChange(lease, `state = 'done', lease_until = NULL, updated_at = @now`, { now });
  }

  async reschedule(lease: LeaseRef, runAt: number, error: string, now = Date.now()): Promise<void> {
    this.mustChange(lease, `state = 'ready', run_at = @runAt, lease_until = NULL, last_error = @error, updated_at = @now`, { runAt, error, now });
  }

  async postpone(lease: LeaseRef, runAt: number, error: string, now = Date.now()): Promise<void> {
    this.mustChange(lease, `state = 'ready', run_at = @runAt, lease_until = NULL, last_error = @error, max_attempts = max_attempts + 1, updated_at = @now`,
      { runAt, error, now });
  }

  async kill(lease: LeaseRef, error: string, now = Date.now()): Promise<void> {
    this.mustChange(lease, `state = 'dead', lease_until = NULL, last_error = @error, updated_at = @now`, { error, now });
  }

  async releaseAllLeases(now = Date.now()): Promise<number> {
    return this.db.prepare(`UPDATE queue SET state = 'ready', lease_until = NULL, run_at = MIN(run_at, ?), updated_at = ? WHERE state = 'leased'`)
      .run(now, now).changes;
  }

  /**
   * Gives back, synchronously, the leases held by processes of this host that no longer exist
   * (holderIsDeadHere): for JournalRepository.releaseDeadHolders's transaction. Returns them.
   */
  releaseDeadHoldersNow(now = Date.now()): Array<Job & { fileId: string | null }> {
    const held = this.db.prepare(`SELECT *, json_extract(payload, '$.fileId') AS file_id FROM queue WHERE state = 'leased' AND leased_host = ? ORDER BY id`)
      .all(HOST) as Array<JobRow & { leased_pid: number | null; leased_host: string | null; file_id: unknown }>;
    const release = this.db.prepare(`UPDATE queue SET state = 'ready', lease_until = NULL, run_at = MIN(run_at, @now), updated_at = @now WHERE ${HELD}`);
    return held.filter((r) => holderIsDeadHere(r.leased_pid, r.leased_host) && release.run({ jobId: r.id, token: r.attempts, now }).changes > 0)
      .map((r) => ({ ...toJob(r), fileId: typeof r.file_id === 'string' ? r.file_id : null }));
  }

  async nextDue(topic: string): Promise<number | undefined> {
    const row = this.db.prepare(`SELECT MIN(run_at) AS at FROM queue WHERE topic = ? AND state = 'ready'`).get(topic) as { at: number | null };
    return row.at ?? undefined;
  }

  async list(filter: { topic?: string; state?: JobState } = {}): Promise<Job[]> {
    const where: string[] = [];
    if (filter.topic) where.push('topic = @topic');
    if (filter.state) where.push('state = @state');
    return (this.db.prepare(`SELECT * FROM queue ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`).all(filter) as JobRow[]).map((r) => toJob(r));
  }

  /** One UPDATE of a job still held under `lease`; true when it was. */
  private change(sets: string, values: LeaseRef & Record<string, unknown>): boolean {
    let statement = this.settle.get(sets);
    if (!statement) this.settle.set(sets, statement = this.db.prepare(`UPDATE queue SET ${sets} WHERE ${HELD}`));
    return statement.run(values).changes > 0;
  }

  private mustChange(lease: LeaseRef, sets: string, values: Record<string, unknown>): void {
    if (!this.change(sets, { ...values, jobId: lease.jobId, token: lease.token })) throw leaseLost(lease);
  }
}

function leaseLost(lease: LeaseRef): FluxgateError {
  return new FluxgateError('FG_LEASE_LOST',
    `job ${lease.jobId} is no longer leased to this worker (its lease ran out and another worker took it over, or it was settled): ` +
    'this worker\'s result is not recorded; the job is finished by its current holder', { jobId: lease.jobId, token: lease.token });
}
