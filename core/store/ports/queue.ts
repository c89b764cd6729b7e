/** The durable queue's rows (migration 003, 008), engine-neutral: what DurableQueue leases and settles. */

/** Topic of "run this journal file through its workflow" (payload `{ fileId }`): the journal's start-up recovery finds a file's job by it. */
export const FILE_PROCESS_TOPIC = 'file.process';

export type JobState = 'ready' | 'leased' | 'done' | 'dead';

export interface Job<P = unknown> {
  id: number;
  topic: string;
  dedupKey: string | null;
  accountId: string | null;
  payload: P;
  state: JobState;
  runAt: number;
  /** Attempts so far, this lease's included: each lease adds one, so it is also the lease's token (LeaseRef). */
  attempts: number;
  maxAttempts: number;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewJob {
  topic: string;
  payload: unknown;
  maxAttempts: number;
  /** While a job with this key is ready or leased, enqueueing the same key again does nothing. */
  dedupKey?: string;
  accountId?: string;
  runAt?: number;
}

/**
 * One lease of one job: the job and its attempt number when it was leased. Every lease adds an
 * attempt, so a holder whose lease ran out and was taken over holds a token that no longer
 * matches: its renewals and its final transition are refused (FG_LEASE_LOST), and the job is
 * finished once, by its current holder (a fencing token).
 */
export interface LeaseRef {
  jobId: number;
  token: number;
}

/** The lease a freshly claimed job carries. */
export const leaseOf = (job: Pick<Job, 'id' | 'attempts'>): LeaseRef => ({ jobId: job.id, token: job.attempts });

/** What one claim asks for: up to `max` due jobs of a topic, within the holder's per-account room. */
export interface ClaimRequest {
  topic: string;
  /** How long the lease runs unless renewed (the holder renews it while it works). */
  leaseMs: number;
  /** At most this many jobs (the holder's free slots). */
  max: number;
  /** At most this many jobs of one account held at once by the holder, counting `held`. */
  perAccount: number;
  /** Jobs the holder holds already, by account. */
  held: Readonly<Record<string, number>>;
  now?: number;
}

/**
 * The `queue` table. Every change to a leased job names its lease and is refused when the
 * lease was taken over (FG_LEASE_LOST). Leasing is one unit of work (`claim`).
 */
export interface QueueRepository {
  /** Returns the new job, or the live job already holding the dedup key. */
  insert(job: NewJob, now?: number): Promise<{ job: Job; created: boolean }>;
  get(id: number): Promise<Job | undefined>;
  /**
   * Unit of work: leases up to `max` due jobs of the topic (ready and due, or leased with an
   * expired lease: its holder died or stalled) to this process, oldest due first, never more
   * than `perAccount` of one account counting those it holds. Two holders never get the same job
   * (SQLite: one write transaction; PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claim<P>(request: ClaimRequest): Promise<Array<Job<P>>>;
  /** Keeps a working holder's lease from expiring; false when it no longer holds it (taken over, or settled). */
  renew(lease: LeaseRef, leaseMs: number, now?: number): Promise<boolean>;
  /** The job is done. FG_LEASE_LOST when the lease is no longer held. */
  complete(lease: LeaseRef, now?: number): Promise<void>;
  /** Back to ready at runAt (the attempt failed). FG_LEASE_LOST when the lease is no longer held. */
  reschedule(lease: LeaseRef, runAt: number, error: string, now?: number): Promise<void>;
  /** Back to ready at runAt, the attempt it used given back (not the job's fault). FG_LEASE_LOST likewise. */
  postpone(lease: LeaseRef, runAt: number, error: string, now?: number): Promise<void>;
  /** Dead after its last attempt. FG_LEASE_LOST when the lease is no longer held. */
  kill(lease: LeaseRef, error: string, now?: number): Promise<void>;
  /** Single node: at start-up no lease can be held by a live worker, so give them all back (several nodes: JournalRepository.releaseDeadHolders). */
  releaseAllLeases(now?: number): Promise<number>;
  /** Earliest run_at of a ready job of the topic, to sleep until then. */
  nextDue(topic: string): Promise<number | undefined>;
  list(filter?: { topic?: string; state?: JobState }): Promise<Job[]>;
}
