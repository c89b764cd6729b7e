import { hostname } from 'node:os';
import { FluxgateError } from '../../errors';
import type { ClaimRequest, Job, JobState, LeaseRef, NewJob, QueueRepository } from '../ports/queue';
import { toJob, type JobRow } from '../queue-repository';
import type { PgPool, Queryable } from './pool';

const HOST = hostname();
/** Due jobs locked and read per round trip while a claim looks for jobs within the per-account room. */
const CLAIM_PAGE = 100;

/** A job that can be leased now ($1 topic, $2 now): ready and due, or leased by a holder whose lease ran out. */
const DUE = `topic = $1 AND ((state = 'ready' AND run_at <= $2) OR (state = 'leased' AND lease_until < $2))`;

/** The lease still held: the job is leased and its attempt is the lease's token (a fencing token). */
const HELD = `id = $1 AND state = 'leased' AND attempts = $2`;

/**
 * The durable queue's rows in PostgreSQL, for several nodes. A claim locks the due jobs it
 * takes and skips those another node is claiming (FOR UPDATE SKIP LOCKED); every change to a
 * leased job names its lease (job id and attempt) and is refused with FG_LEASE_LOST once the
 * lease was taken over, so a stalled holder never settles a job its successor works on.
 */
export class PostgresQueueRepository implements QueueRepository {
  constructor(private readonly db: PgPool) {}

  async insert(job: NewJob, now = Date.now()): Promise<{ job: Job; created: boolean }> { return insertJob(this.db, job, now); }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.row<JobRow>('SELECT * FROM queue WHERE id = $1', [id]);
    return row && toJob(row);
  }

  /**
   * Picks the due jobs within the holder's room from a plain read (no lock: rows it passes over
   * stay free for other nodes), then leases those of them still due and not being claimed by
   * another node at this instant, in one statement (FOR UPDATE SKIP LOCKED re-checks each row
   * as it is now). A pick another node took meanwhile is left out: this claim returns fewer, the
   * next poll takes more.
   */
  async claim<P>(request: ClaimRequest): Promise<Array<Job<P>>> {
    const now = request.now ?? Date.now();
    if (request.max <= 0) return [];
    const held: Record<string, number> = { ...request.held };
    const chosen: number[] = [];
    let after: [number, number] = [-1, -1];
    while (chosen.length < request.max) {
      const page = await this.db.rows<{ id: number; account_id: string | null; run_at: number }>(`SELECT id, account_id, run_at FROM queue
        WHERE ${DUE} AND (run_at, id) > ($3, $4) ORDER BY run_at, id LIMIT $5`, [request.topic, now, after[0], after[1], CLAIM_PAGE]);
      for (const r of page) {
        if (chosen.length >= request.max) break;
        if (r.account_id !== null && (held[r.account_id] ?? 0) >= request.perAccount) continue;
        chosen.push(r.id);
        if (r.account_id !== null) held[r.account_id] = (held[r.account_id] ?? 0) + 1;
      }
      if (page.length < CLAIM_PAGE) break;
      after = [page[page.length - 1].run_at, page[page.length - 1].id];
    }
    if (chosen.length === 0) return [];
    const rows = await this.db.rows<JobRow>(`UPDATE queue SET state = 'leased', lease_until = $4, attempts = attempts + 1, updated_at = $2,
        leased_pid = $5, leased_host = $6
      WHERE id IN (SELECT id FROM queue WHERE id = ANY($3::bigint[]) AND ${DUE} FOR UPDATE SKIP LOCKED)
      RETURNING *`, [request.topic, now, chosen, now + request.leaseMs, process.pid, HOST]);
    return rows.sort((a, b) => a.run_at - b.run_at || a.id - b.id).map((r) => toJob<P>(r));
  }

  async renew(lease: LeaseRef, leaseMs: number, now = Date.now()): Promise<boolean> {
    return (await this.db.run(`UPDATE queue SET lease_until = $3 WHERE ${HELD}`, [lease.jobId, lease.token, now + leaseMs])) > 0;
  }

  async complete(lease: LeaseRef, now = Date.now()): Promise<void> {
    await settle(this.db, lease, `state = 'done', lease_until = NULL, updated_at = $3`, [now]);
  }

  async reschedule(lease: LeaseRef, runAt: number, error: string, now = Date.now()): Promise<void> {
    await settle(this.db, lease, `state = 'ready', run_at = $3, lease_until = NULL, last_error = $4, updated_at = $5`, [runAt, error, now]);
  }

  async postpone(lease: LeaseRef, runAt: number, error: string, now = Date.now()): Promise<void> {
    await settle(this.db, lease, `state = 'ready', run_at = $3, lease_until = NULL, last_error = $4, max_attempts = max_attempts + 1, updated_at = $5`, [runAt, error, now]);
  }

  async kill(lease: LeaseRef, error: string, now = Date.now()): Promise<void> {
    await settle(this.db, lease, `state = 'dead', lease_until = NULL, last_error = $3, updated_at = $4`, [error, now]);
  }

  /** Single node only: in a cluster another node's leases are live, and the lapse alone gives a dead node's jobs to another. */
  async releaseAllLeases(now = Date.now()): Promise<number> {
    return this.db.run(`UPDATE queue SET state = 'ready', lease_until = NULL, run_at = LEAST(run_at, $1), updated_at = $1 WHERE state = 'leased'`, [now]);
  }

  async nextDue(topic: string): Promise<number | undefined> {
    const row = await this.db.row<{ at: number | null }>(`SELECT MIN(run_at) AS at FROM queue WHERE topic = $1 AND state = 'ready'`, [topic]);
    return row?.at ?? undefined;
  }

  async list(filter: { topic?: string; state?: JobState } = {}): Promise<Job[]> {
    return (await this.db.rows<JobRow>(`SELECT * FROM queue WHERE ($1::text IS NULL OR topic = $1) AND ($2::text IS NULL OR state = $2) ORDER BY id`,
      [filter.topic || null, filter.state || null])).map((r) => toJob(r));
  }
}

/** Inserts a job on this connection (inside a caller's unit of work, or not): the new job, or the live one holding its dedup key. */
export async function insertJob(q: Queryable, job: NewJob, now = Date.now()): Promise<{ job: Job; created: boolean }> {
  // The live job holding the key may settle between the INSERT and the read: then insert again.
  for (;;) {
    const row = await q.row<JobRow>(`INSERT INTO queue (topic, dedup_key, account_id, payload, state, run_at, max_attempts, created_at, updated_at)
      VALUES ($1, $2, $3, $4, 'ready', $5, $6, $7, $7)
      ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('ready', 'leased') DO NOTHING RETURNING *`,
    [job.topic, job.dedupKey ?? null, job.accountId ?? null, JSON.stringify(job.payload), job.runAt ?? now, job.maxAttempts, now]);
    if (row) return { job: toJob(row), created: true };
    const existing = await q.row<JobRow>(`SELECT * FROM queue WHERE dedup_key = $1 AND state IN ('ready', 'leased')`, [job.dedupKey]);
    if (existing) return { job: toJob(existing), created: false };
  }
}

/** Locks the job's row while a unit of work depends on its lease (FOR SHARE: a takeover waits for it); FG_LEASE_LOST unless still held. */
export async function requireLease(q: Queryable, lease: LeaseRef): Promise<void> {
  if (!await q.row(`SELECT 1 FROM queue WHERE ${HELD} FOR SHARE`, [lease.jobId, lease.token])) throw leaseLost(lease);
}

/** Settles a leased job if its lease is still held; FG_LEASE_LOST (nothing changed) if not. */
async function settle(q: Queryable, lease: LeaseRef, set: string, values: unknown[]): Promise<void> {
  if (await q.run(`UPDATE queue SET ${set} WHERE ${HELD}`, [lease.jobId, lease.token, ...values]) > 0) return;
  throw leaseLost(lease);
}

export function leaseLost(lease: LeaseRef): FluxgateError {
  return new FluxgateError('FG_LEASE_LOST',
    `the lease on queue job ${lease.jobId} (attempt ${lease.token}) is no longer held: it ran out and another worker took the job over, or it was settled; this worker's result is not recorded`,
    { jobId: lease.jobId, token: lease.token });
}
