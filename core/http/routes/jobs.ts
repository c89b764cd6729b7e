import { z } from 'zod';
import { parseAsOf } from '../../cron/as-of';
import { JOB_NAMES } from '../../cron/job';
import { jobHistory, jobList, reportJson } from '../../cron/views';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { asReply, Job, JobReport, JobRun, responses } from '../schemas';

const JobName = z.object({ job: z.enum(JOB_NAMES as unknown as [string, ...string[]]) });

/** Scheduled jobs: what `fluxgate jobs list|history|run` do, on the server's own runner. */
export function registerJobRoutes(app: ZodApp, deps: HttpDeps): void {
  const tags = ['jobs'];
  app.get('/api/v1/jobs', { schema: { summary: 'each job with its schedule, next and last run', tags, response: responses({ 200: z.array(Job) }) } },
    async () => jobList(deps.jobs, deps.config));

  app.get('/api/v1/jobs/:job/runs', {
    schema: { summary: 'recorded runs of a job, most recent first', tags, params: JobName, querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) }), response: responses({ 200: z.array(JobRun) }) },
  }, async (request) => jobHistory(deps.jobs, request.params.job, request.query.limit));

  app.post('/api/v1/jobs/:job/run', {
    schema: {
      summary: 'run a job now; dryRun reports what it would do and changes nothing; at evaluates the rules as of that date', tags, params: JobName,
      body: z.strictObject({ dryRun: z.boolean().default(false), at: z.string().optional().describe('ISO 8601 date, or +Nd / -Nd from now') }).default({ dryRun: false }),
      response: responses({ 200: JobReport }),
    },
  }, async (request) => {
    const asOf = request.body.at === undefined ? undefined : parseAsOf(request.body.at);
    const report = await deps.jobs.runner.run(request.params.job, { asOf, dryRun: request.body.dryRun, trigger: 'manual', collectActions: true });
    return asReply(reportJson(report));
  });
}
