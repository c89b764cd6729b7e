import cron, { type ScheduledTask, type TaskFn } from 'node-cron';
import { FluxgateError } from '../errors';

/** Throws FG_CONFIG when a schedule or timezone is unusable, naming the job. */
export function validateSchedule(job: string, expression: string, timezone: string): void {
  if (!cron.validate(expression)) {
    throw new FluxgateError('FG_CONFIG', `jobs: the schedule "${expression}" of ${job} is not a valid cron expression`, { job, expression });
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new FluxgateError('FG_CONFIG', `jobs.timezone "${timezone}" is not a known IANA timezone (e.g. UTC, Europe/Paris)`, { timezone });
  }
}

/** A node-cron task that is not started (createTask): runs never overlap. */
export function createJobTask(job: string, expression: string, timezone: string, fn: TaskFn): ScheduledTask {
  validateSchedule(job, expression, timezone);
  return cron.createTask(expression, fn, { name: job, timezone, noOverlap: true });
}

/** When the schedule fires next after now (node-cron only computes it for a started task). */
export function nextRun(job: string, expression: string, timezone: string): Date | null {
  const task = createJobTask(job, expression, timezone, () => undefined);
  try {
    void task.start(); // synchronous for a task of createTask (an inline task)
    return task.getNextRun();
  } finally {
    void task.destroy();
  }
}

/**
 * The slot a scheduled run is for: the instant node-cron matched (its fire date, not the moment
 * the callback ran), truncated to the second, so every node firing the same schedule names the
 * same slot. For five-field expressions that is the minute.
 */
export function scheduledSlot(fireDate: Date): number {
  return Math.floor(fireDate.getTime() / 1000) * 1000;
}
