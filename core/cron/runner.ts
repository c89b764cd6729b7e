import { FluxgateError, toFluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { CronRepository, RunOutcome } from '../store/ports/jobs';
import { JobCounts, type JobAction, type JobContext } from './job';
import type { JobRegistry } from './registry';

export interface RunOptions {
  /** Evaluate the rules as of this instant (epoch ms); now when absent. */
  asOf?: number;
  dryRun?: boolean;
  trigger?: 'schedule' | 'manual';
  /**
   * The scheduled instant this run is for (epoch ms), set by the scheduler: a job runs once per
   * job and slot across the cluster (FG_JOB_SLOT_TAKEN for the late one). Manual runs have none.
   */
  slot?: number;
  /** Keep every action in the report (the CLI prints them); scheduled runs only log them. */
  collectActions?: boolean;
  signal?: AbortSignal;
}

export interface RunReport {
  job: string;
  /** The `cron_runs` row; null for dry runs, which record nothing. */
  runId: number | null;
  asOf: number;
  dryRun: boolean;
  outcome: Exclude<RunOutcome, 'running'>;
  counts: Record<string, number>;
  actions: JobAction[];
  errors: Array<{ target: string; code: string; message: string }>;
  startedAt: number;
  endedAt: number;
}

/**
 * Runs one job: takes its lock and records the run (start, end, outcome, counts), or under
 * dry-run does neither (a dry run changes nothing, not even the run history).
 */
export class JobRunner {
  private readonly running = new Set<string>();
  private readonly logger: Logger;

  constructor(
    private readonly registry: JobRegistry,
    private readonly runs: CronRepository,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'cron' });
  }

  async run(name: string, options: RunOptions = {}): Promise<RunReport> {
    const job = this.registry.get(name);
    const dryRun = options.dryRun ?? false;
    const asOf = options.asOf ?? Date.now();
    if (!dryRun && this.running.has(job.name)) {
      throw new FluxgateError('FG_JOB_RUNNING', `job ${job.name} is already running in this process`, { job: job.name });
    }
    const startedAt = Date.now();
    const run = dryRun ? undefined : await this.runs.begin(job.name, asOf, startedAt, options.slot);
    const log = this.logger.child({ job: job.name, runId: run?.id ?? null, dryRun, asOf: new Date(asOf).toISOString() });
    const counts = new JobCounts();
    const actions: JobAction[] = [];
    const errors: RunReport['errors'] = [];
    const ctx: JobContext = {
      asOf, dryRun, logger: log, counts, signal: options.signal ?? new AbortController().signal,
      record(action) {
        counts.add(action.action);
        if (options.collectActions) actions.push(action);
        log.info({ ...action, since: action.since && new Date(action.since).toISOString() }, dryRun ? `would ${action.action}` : action.action);
      },
      fail(target, err) {
        const e = toFluxgateError(err);
        counts.add('errors');
        errors.push({ target, code: e.code, message: e.message });
        log.error({ target, err: e }, 'job item failed; the next run retries it');
      },
    };
    if (!dryRun) this.running.add(job.name);
    log.info({ trigger: options.trigger ?? 'manual' }, 'job started');
    let outcome: RunReport['outcome'] = 'ok';
    let error: string | null = null;
    try {
      await job.run(ctx);
      if (ctx.signal.aborted) {
        outcome = 'interrupted';
        error = 'stopped with the server before it finished; the next run continues';
      } else if (errors.length > 0) {
        outcome = 'failed';
        error = `${errors.length} item(s) failed, first: ${errors[0].target}: ${errors[0].message}`;
      }
    } catch (err) {
      const e = toFluxgateError(err);
      outcome = 'failed';
      error = e.message;
      errors.push({ target: job.name, code: e.code, message: e.message });
      log.error({ err: e }, 'job failed; the next run retries it');
    } finally {
      this.running.delete(job.name);
    }
    const endedAt = Date.now();
    if (run) await this.runs.finish(run.id, outcome, counts.values, error, endedAt);
    log.info({ outcome, counts: counts.values, ms: endedAt - startedAt }, 'job finished');
    return { job: job.name, runId: run?.id ?? null, asOf, dryRun, outcome, counts: counts.values, actions, errors, startedAt, endedAt };
  }
}
