import cron, { type ScheduledTask } from 'node-cron';
import type { FluxgateConfig } from '../config/schema';
import { toFluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { CronRepository } from '../store/ports/jobs';
import type { Service } from '../tokens';
import { JOB_CONFIG_KEYS, type JobName } from './job';
import type { JobRegistry } from './registry';
import type { JobRunner } from './runner';
import { createJobTask, scheduledSlot } from './schedule';

/**
 * Schedules every enabled job with node-cron (timezone from `config.jobs.timezone`, no
 * overlap), and on start marks runs left `running` by a crashed process as interrupted.
 */
export class CronService implements Service {
  readonly name = 'cron';
  private tasks: ScheduledTask[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  private readonly logger: Logger;

  constructor(
    private readonly config: FluxgateConfig,
    private readonly registry: JobRegistry,
    private readonly runner: JobRunner,
    private readonly runs: CronRepository,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'cron' });
  }

  async start(): Promise<void> {
    // node-cron writes its own notices (missed runs…) to the console: keep them in the JSON log.
    cron.setLogger({
      info: (m) => this.logger.info({ source: 'node-cron' }, m),
      warn: (m) => this.logger.warn({ source: 'node-cron' }, m),
      error: (m, err) => this.logger.error({ source: 'node-cron', err: err ?? m }, String(m)),
      debug: (m) => this.logger.debug({ source: 'node-cron' }, String(m)),
    });
    const reaped = await this.runs.reapInterrupted();
    if (reaped > 0) this.logger.warn({ reaped }, 'runs interrupted by a previous crash were marked interrupted; their jobs resume at the next run');
    const { timezone } = this.config.jobs;
    for (const job of this.registry.list()) {
      const settings = this.config.jobs[JOB_CONFIG_KEYS[job.name]];
      if (!settings.enabled) {
        this.logger.info({ job: job.name }, 'job disabled in config: not scheduled');
        continue;
      }
      const idle = job.idleReason?.();
      if (idle) {
        // Runs are recorded: a job with nothing to do would only fill the history.
        this.logger.info({ job: job.name, reason: idle }, 'job has nothing to do: not scheduled');
        continue;
      }
      const task = createJobTask(job.name, settings.schedule, timezone, (ctx) => this.fire(job.name, scheduledSlot(ctx.date)));
      await task.start();
      this.tasks.push(task);
      this.logger.info({ job: job.name, schedule: settings.schedule, timezone, next: task.getNextRun()?.toISOString() ?? null }, 'job scheduled');
    }
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.tasks = [];
    // A run in progress stops after its current item and is recorded; it is never cut mid-deletion.
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private async fire(name: JobName, slot: number): Promise<void> {
    const p = this.runner.run(name, { trigger: 'schedule', slot, signal: this.stopping.signal }).catch((err: unknown) => {
      const e = toFluxgateError(err);
      // Another node (or this one, restarted) ran this schedule: the cluster's run, not a failure.
      if (e.code === 'FG_JOB_SLOT_TAKEN') this.logger.info({ ...e.details, code: e.code, slot: new Date(slot).toISOString() }, e.message);
      else this.logger.error({ job: name, slot: new Date(slot).toISOString(), err: e }, 'scheduled run did not start');
    });
    this.inFlight.add(p);
    try { await p; } finally { this.inFlight.delete(p); }
  }
}
