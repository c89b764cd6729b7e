import type { FluxgateConfig } from '../config/schema';
import type { Jobs } from './jobs';
import { JOB_CONFIG_KEYS } from './job';
import type { RunReport } from './runner';
import { nextRun } from './schedule';

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());

/** Each job with its schedule, next run and last run: `jobs list --json` and GET /api/v1/jobs. */
export async function jobList(jobs: Pick<Jobs, 'registry' | 'runs'>, config: FluxgateConfig) {
  const cfg = config.jobs;
  return Promise.all(jobs.registry.list().map(async (job) => {
    const settings = cfg[JOB_CONFIG_KEYS[job.name]];
    const last = await jobs.runs.lastRun(job.name);
    return {
      job: job.name, description: job.description, schedule: settings.schedule, timezone: cfg.timezone,
      enabled: settings.enabled, nextRun: settings.enabled ? iso(nextRun(job.name, settings.schedule, cfg.timezone)?.getTime()) : null,
      lastRun: last ? {
        id: last.id, startedAt: iso(last.startedAt), endedAt: iso(last.endedAt), asOf: iso(last.asOf),
        outcome: last.outcome, counts: last.counts, error: last.error, slot: iso(last.slot), host: last.host,
      } : null,
    };
  }));
}

/** Recorded runs of a job, most recent first: `jobs history --json` and GET /api/v1/jobs/{job}/runs. */
export async function jobHistory(jobs: Pick<Jobs, 'registry' | 'runs'>, name: string, limit: number) {
  const job = jobs.registry.get(name);
  return (await jobs.runs.runs(job.name, limit)).map((r) => ({
    id: r.id, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt), asOf: iso(r.asOf), outcome: r.outcome, counts: r.counts, error: r.error,
    // The schedule it ran for (null: run by hand) and the host that ran it: which node took a slot.
    slot: iso(r.slot), host: r.host,
  }));
}

/** A run's report: `jobs run --json` and POST /api/v1/jobs/{job}/run. */
export function reportJson(r: RunReport): Record<string, unknown> {
  return {
    job: r.job, runId: r.runId, asOf: iso(r.asOf), dryRun: r.dryRun, outcome: r.outcome, counts: r.counts,
    actions: r.actions.map((a) => ({ ...a, since: iso(a.since) })), errors: r.errors,
    startedAt: iso(r.startedAt), endedAt: iso(r.endedAt),
  };
}
