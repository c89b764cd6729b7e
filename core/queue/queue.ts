import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger';
import { toFluxgateError } from '../errors';
import { leaseOf, type Job, type LeaseRef, type QueueRepository } from '../store/ports/queue';
import { backoffDelay, type RetryPolicy } from './backoff';

export type { Job } from '../store/ports/queue';

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delay?: number;
  /** De-duplication key: while a job with this key is pending, enqueueing it again is a no-op. */
  key?: string;
  /** Concurrency is limited per account. */
  accountId?: string;
  /** Defaults to the queue's retry policy. */
  maxAttempts?: number;
}

/**
 * What a listener decides about a job; throwing counts as `retry` (or `dead` on the last attempt).
 * `postpone`: the attempt failed through no fault of the job (the disk was full): it runs again
 * after delayMs and the attempt does not count against its limit.
 */
export type JobOutcome =
  | { status: 'done' }
  | { status: 'retry'; error: string; delayMs?: number }
  | { status: 'postpone'; error: string; delayMs?: number }
  | { status: 'dead'; error: string };

/**
 * `lease`: the job's lease, which a final transition the handler makes in the store checks
 * (JournalRepository.finish); `signal` aborts on stop, and when the lease is lost.
 */
export type JobHandler<P> = (job: Job<P>, signal: AbortSignal, lease: LeaseRef) => Promise<JobOutcome>;

export interface ListenOptions {
  concurrency: { global: number; perAccount: number };
  leaseMs: number;
  pollIntervalMs: number;
  /** On stop, how long running jobs may still finish before they are aborted (default 0). */
  graceMs?: number;
}

/**
 * A durable queue in the database, in the spirit of Deno KV queues: at-least-once, leased,
 * retried with exponential backoff, dead after the last attempt. Listeners must be idempotent.
 */
export class DurableQueue {
  private readonly wake = new EventEmitter();

  /** `repo`: the queue's rows; leasing is its `claim` unit of work (see QueueWorker.pump). */
  constructor(readonly repo: QueueRepository, readonly retry: RetryPolicy, private readonly logger: Logger) {}

  async enqueue(topic: string, payload: unknown, options: EnqueueOptions = {}): Promise<{ job: Job; created: boolean }> {
    const now = Date.now();
    const result = await this.repo.insert({
      topic, payload, dedupKey: options.key, accountId: options.accountId,
      maxAttempts: options.maxAttempts ?? this.retry.attempts, runAt: now + (options.delay ?? 0),
    }, now);
    if (result.created) this.wake.emit(topic);
    return result;
  }

  /** Wakes this process's listeners of the topic (after jobs were inserted through `repo` in a transaction). */
  notify(topic: string): void {
    this.wake.emit(topic);
  }

  /** Starts delivering jobs of `topic` to `handler`; returns a function that stops and waits for running jobs. */
  listen<P>(topic: string, handler: JobHandler<P>, options: ListenOptions): () => Promise<void> {
    const worker = new QueueWorker<P>(this, topic, handler, options, this.logger.child({ component: 'queue', topic }));
    const onWake = (): void => worker.pump();
    this.wake.on(topic, onWake);
    worker.start();
    return async () => {
      this.wake.off(topic, onWake);
      await worker.stop();
    };
  }
}

class QueueWorker<P> {
  private readonly active = new Map<number, Promise<void>>();
  private readonly perAccount = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** A claim is in flight: the next one waits for it (the counts it reads must include its jobs). */
  private claiming = false;
  /** Asked to pump while a claim was in flight: pump again once it is in. */
  private again = false;

  constructor(
    private readonly queue: DurableQueue,
    private readonly topic: string,
    private readonly handler: JobHandler<P>,
    private readonly options: ListenOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.pump(), this.options.pollIntervalMs);
    this.timer.unref();
    this.pump();
  }

  /** Stops leasing, lets running jobs finish for up to graceMs, then aborts them (they run again at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.claiming) await new Promise((r) => setImmediate(r));
    const running = Promise.allSettled([...this.active.values()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise((r) => { timer = setTimeout(r, this.options.graceMs ?? 0); })]);
    clearTimeout(timer);
    this.abort.abort();
    await running;
  }

  /**
   * Leases as many due jobs as the limits allow. One claim at a time, each a unit of work of the
   * store given the jobs this worker holds by account, and its jobs counted as soon as it
   * returns: the per-account counts stay exact across the await.
   */
  pump(): void {
    if (this.stopped) return;
    if (this.claiming) { this.again = true; return; }
    this.claiming = true;
    void this.claimAll()
      .catch((err: unknown) => this.log.error({ err }, 'cannot lease jobs from the queue (tried again at the next poll)'))
      .finally(() => {
        this.claiming = false;
        if (this.again) { this.again = false; this.pump(); }
      });
  }

  private async claimAll(): Promise<void> {
    const { concurrency, leaseMs } = this.options;
    while (!this.stopped && this.active.size < concurrency.global) {
      const jobs = await this.queue.repo.claim<P>({
        topic: this.topic, leaseMs, max: concurrency.global - this.active.size,
        perAccount: concurrency.perAccount, held: Object.fromEntries(this.perAccount),
      });
      // Leased even when stopping meanwhile: they run, and stop() waits for them as for the others.
      for (const job of jobs) this.run(job);
      if (jobs.length === 0) return;
    }
  }

  private run(job: Job<P>): void {
    const account = job.accountId;
    if (account) this.perAccount.set(account, (this.perAccount.get(account) ?? 0) + 1);
    const lease = leaseOf(job);
    const lost = new AbortController();
    const heartbeat = setInterval(() => {
      this.queue.repo.renew(lease, this.options.leaseMs).then((held) => {
        if (held || lost.signal.aborted) return;
        this.log.warn({ jobId: job.id }, 'lease lost: another worker took the job over; this attempt is abandoned and its result not recorded');
        lost.abort();
      }, (err: unknown) => this.log.warn({ err, jobId: job.id }, 'cannot renew the job\'s lease (tried again at the next beat)'));
    }, Math.max(500, this.options.leaseMs / 2));
    heartbeat.unref();
    const done = this.execute(job, lease, AbortSignal.any([this.abort.signal, lost.signal])).finally(() => {
      clearInterval(heartbeat);
      this.active.delete(job.id);
      if (account) {
        const n = (this.perAccount.get(account) ?? 1) - 1;
        if (n <= 0) this.perAccount.delete(account); else this.perAccount.set(account, n);
      }
      // A slot is free: take the next job now rather than at the next poll.
      setImmediate(() => this.pump());
    });
    this.active.set(job.id, done);
  }

  private async execute(job: Job<P>, lease: LeaseRef, signal: AbortSignal): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await this.handler(job, signal, lease);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      outcome = job.attempts >= job.maxAttempts ? { status: 'dead', error } : { status: 'retry', error };
    }
    if (this.stopped && outcome.status !== 'done' && outcome.status !== 'postpone') {
      // Interrupted by shutdown: leave the lease to expire / be released at the next start
      // (a postponed job is recorded: its attempt is given back either way).
      return;
    }
    try {
      await this.settle(job, lease, outcome);
    } catch (err) {
      const e = toFluxgateError(err);
      if (e.code === 'FG_LEASE_LOST') this.log.warn({ jobId: job.id, outcome: outcome.status }, e.message);
      else this.log.error({ err, jobId: job.id }, 'cannot record the job outcome');
    }
  }

  private async settle(job: Job<P>, lease: LeaseRef, outcome: JobOutcome): Promise<void> {
    const repo = this.queue.repo;
    if (outcome.status === 'done') {
      await repo.complete(lease);
    } else if (outcome.status === 'postpone') {
      const delay = outcome.delayMs ?? 0;
      await repo.postpone(lease, Date.now() + delay, outcome.error);
      this.log.info({ jobId: job.id, attempts: job.attempts, delayMs: delay, error: outcome.error }, 'job postponed, its attempt given back');
    } else if (outcome.status === 'dead' || job.attempts >= job.maxAttempts) {
      await repo.kill(lease, outcome.error);
      this.log.warn({ jobId: job.id, attempts: job.attempts, error: outcome.error }, 'job is dead after its last attempt');
    } else {
      const delay = outcome.delayMs ?? backoffDelay(this.queue.retry, job.attempts);
      await repo.reschedule(lease, Date.now() + delay, outcome.error);
      this.log.info({ jobId: job.id, attempts: job.attempts, delayMs: delay, error: outcome.error }, 'job will be retried');
    }
  }
}
