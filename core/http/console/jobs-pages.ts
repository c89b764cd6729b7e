import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAsOf } from '../../cron/as-of';
import { JOB_NAMES } from '../../cron/job';
import { jobHistory, jobList, reportJson } from '../../cron/views';
import { FluxgateError } from '../../errors';
import type { HttpDeps } from '../deps';
import { statusOf } from '../error-status';
import { href, html, when, type Html } from './html';
import { csrfField, page, pageContext, sendPage, stateBadge } from './layout';

type Form = Record<string, string | undefined>;

/** Jobs: each job, its history, run now or as a dry run (optionally as of a date), the run's report. */
export function registerJobPages(app: FastifyInstance, deps: HttpDeps): void {
  const hidden = { schema: { hide: true } };

  const jobsPage = async (request: FastifyRequest, reply: FastifyReply, selected: string, extra?: { report?: Record<string, unknown>; problem?: FluxgateError }) => {
    const ctx = pageContext(request, reply);
    const jobs = await jobList(deps.jobs, deps.config);
    const job = (JOB_NAMES as readonly string[]).includes(selected) ? selected : jobs[0]?.job;
    const runs = job ? await jobHistory(deps.jobs, job, 20) : [];
    const report = extra?.report;
    const body = html`
<div class="table-wrap"><table><thead><tr><th scope="col">job</th><th scope="col" class="hide-narrow">what</th><th scope="col">schedule</th><th scope="col">next run</th><th scope="col">last run</th></tr></thead><tbody>
${jobs.map((j) => html`<tr><td><a href="${href('/console/jobs', { job: j.job })}"${j.job === job ? html` aria-current="true"` : ''}>${j.job}</a></td><td class="hide-narrow">${j.description}</td><td><code>${j.schedule}</code> ${j.timezone}${j.enabled ? '' : html` ${stateBadge('disabled')}`}</td><td>${when(j.nextRun)}</td><td>${j.lastRun ? html`${stateBadge(j.lastRun.outcome)} ${when(j.lastRun.startedAt)}` : '–'}</td></tr>`)}
</tbody></table></div>
${job && ctx.canChange ? html`<h2>Run ${job}</h2><form class="filters card" method="post" action="/console/jobs/${job}/run">${csrfField(ctx)}
<div class="field"><label for="run-at">As of (ISO date or +Nd; empty: now)</label><input id="run-at" name="at" type="text" placeholder="+30d" size="14"></div>
<div class="field"><label><input type="checkbox" name="dryRun" value="true" checked> Dry run (report only, change nothing)</label></div>
<div class="field"><button type="submit">Run now</button></div></form>` : ''}
${report ? reportBlock(report) : ''}
<h2>History of ${job ?? '–'}</h2>
${runs.length === 0 ? html`<p class="muted">No recorded run.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">run</th><th scope="col">started</th><th scope="col">ended</th><th scope="col">as of</th><th scope="col">outcome</th><th scope="col">counts</th></tr></thead><tbody>
${runs.map((r) => html`<tr><td>${r.id}</td><td>${when(r.startedAt)}</td><td>${when(r.endedAt)}</td><td>${when(r.asOf)}</td><td>${stateBadge(r.outcome)}${r.error ? html` ${r.error}` : ''}</td><td><code>${JSON.stringify(r.counts)}</code></td></tr>`)}
</tbody></table></div>`}`;
    return sendPage(reply, page(ctx, 'Jobs', body, { bad: extra?.problem ? `${extra.problem.message} [${extra.problem.code}]` : undefined }), extra?.problem ? statusOf(extra.problem.code) : 200);
  };

  app.get('/console/jobs', hidden, async (request, reply) => jobsPage(request, reply, (request.query as Form).job ?? ''));

  app.post('/console/jobs/:job/run', hidden, async (request, reply) => {
    const job = (request.params as { job: string }).job;
    const form = (request.body ?? {}) as Form;
    try {
      if (!(JOB_NAMES as readonly string[]).includes(job)) throw new FluxgateError('FG_JOB_NOT_FOUND', `no job "${job}": the jobs are ${JOB_NAMES.join(', ')}`);
      const asOf = form.at?.trim() ? parseAsOf(form.at.trim()) : undefined;
      const report = await deps.jobs.runner.run(job, { asOf, dryRun: form.dryRun === 'true', trigger: 'manual', collectActions: true });
      return jobsPage(request, reply, job, { report: reportJson(report) });
    } catch (err) {
      if (!(err instanceof FluxgateError) || statusOf(err.code) >= 500) throw err;
      request.errorCode = err.code;
      return jobsPage(request, reply, job, { problem: err });
    }
  });
}

function reportBlock(r: Record<string, unknown>): Html {
  const actions = (r.actions as Array<Record<string, unknown>>) ?? [];
  const errors = (r.errors as Array<Record<string, unknown>>) ?? [];
  return html`<section class="card" aria-label="Run report"><h2>${r.dryRun ? 'Dry run' : 'Run'} of ${String(r.job)}: ${stateBadge(String(r.outcome))}</h2>
<p>As of ${when(r.asOf as string)} · counts <code>${JSON.stringify(r.counts)}</code></p>
${actions.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">action</th></tr></thead><tbody>${actions.slice(0, 500).map((a) => html`<tr><td><code>${JSON.stringify(a)}</code></td></tr>`)}</tbody></table></div>` : html`<p class="muted">Nothing to do.</p>`}
${errors.length ? html`<ul class="problems">${errors.map((e) => html`<li><code>${JSON.stringify(e)}</code></li>`)}</ul>` : ''}</section>`;
}
