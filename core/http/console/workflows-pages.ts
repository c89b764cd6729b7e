import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FluxgateError } from '../../errors';
import { formatProblem } from '../../workflow/loader';
import { listWorkflowNames, readWorkflowSource, replaceWorkflowSource, workflowNameOf } from '../../workflow/workflow-edit';
import type { HttpDeps } from '../deps';
import { statusOf } from '../error-status';
import { href, html } from './html';
import { csrfField, page, pageContext, sendPage, stateBadge } from './layout';

type Form = Record<string, string | undefined>;

/**
 * Workflows: the list (active or not, load problems) and an editor. The editor's script checks
 * the source as it is typed (POST /api/v1/workflows/{name}/validate); saving goes through the
 * same replaceWorkflowSource as the API (refused with the problems, else written and reloaded).
 */
export function registerWorkflowPages(app: FastifyInstance, deps: HttpDeps): void {
  const dir = deps.workflowSources.dir;
  const hidden = { schema: { hide: true } };

  app.get('/console/workflows', hidden, async (request, reply) => {
    const active = new Map(deps.workflows.all.map((w) => [workflowNameOf(dir, w.source), w]));
    const body = html`<p class="muted">Directory <code>${dir}</code></p>
${deps.workflows.problems.length ? html`<div class="notice bad" role="alert"><strong>Load problems</strong><ul>${deps.workflows.problems.map((p) => html`<li>${formatProblem(p)}</li>`)}</ul></div>` : ''}
<div class="table-wrap"><table><thead><tr><th scope="col">workflow</th><th scope="col">status</th><th scope="col">flux</th><th scope="col" class="hide-narrow">profile</th><th scope="col" class="hide-narrow">steps</th></tr></thead><tbody>
${listWorkflowNames(dir).map((name) => {
    const w = active.get(name);
    return html`<tr><td><a href="${href('/console/workflows/edit', { name })}">${name}</a></td><td>${stateBadge(w ? 'active' : 'error')}</td><td>${w?.flux ?? '–'}</td><td class="hide-narrow">${w?.match.profile ?? '–'}</td><td class="hide-narrow">${w ? w.steps.map((s) => s.name).join(' → ') : ''}</td></tr>`;
  })}
</tbody></table></div>`;
    return sendPage(reply, page(pageContext(request, reply), 'Workflows', body));
  });

  const editor = (request: FastifyRequest, reply: FastifyReply, name: string, source?: string, problem?: FluxgateError) => {
    const ctx = pageContext(request, reply);
    const current = readWorkflowSource(dir, name);
    const problems = (problem?.details.problems as Parameters<typeof formatProblem>[0][] | undefined) ?? [];
    const body = html`<p class="muted"><code>${current.file}</code></p>
<form class="stack" method="post" action="/console/workflows/save">${csrfField(ctx)}<input type="hidden" name="name" value="${name}">
<label for="workflow-source">Source (YAML)</label>
<textarea id="workflow-source" name="source" rows="28" spellcheck="false" aria-describedby="workflow-check" data-validate-url="/api/v1/workflows/${encodeURIComponent(name)}/validate"${ctx.canChange ? '' : html` readonly`}>${source ?? current.source}</textarea>
<div id="workflow-check" aria-live="polite" class="${problems.length ? 'problems' : 'muted'}">${problems.length ? html`<ul>${problems.map((p) => html`<li>error  ${formatProblem(p)}</li>`)}</ul>` : ''}</div>
${ctx.canChange ? html`<p><button type="submit">Save and reload</button></p>` : html`<p class="muted">Viewers read workflows; an admin edits them.</p>`}</form>`;
    return sendPage(reply, page(ctx, `Workflow ${name}`, body, { bad: problem ? `${problem.code === 'FG_WORKFLOW_INVALID' ? 'Not saved: the workflow is invalid (the file is untouched).' : problem.message} [${problem.code}]` : undefined, done: (request.query as Form).done }),
      problem ? statusOf(problem.code) : 200);
  };

  app.get('/console/workflows/edit', hidden, async (request, reply) => editor(request, reply, (request.query as Form).name ?? ''));

  app.post('/console/workflows/save', hidden, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const name = form.name ?? '';
    // Browsers send textarea lines with CRLF; the file keeps the LF it is written with.
    const source = (form.source ?? '').replace(/\r\n/g, '\n');
    try {
      replaceWorkflowSource(deps.workflowSources, name, source, (file) => deps.workflows.reload(file));
    } catch (err) {
      if (!(err instanceof FluxgateError) || statusOf(err.code) >= 500) throw err;
      request.errorCode = err.code;
      return editor(request, reply, name, source, err);
    }
    return reply.redirect(href('/console/workflows/edit', { name, done: 'saved' }), 303);
  });
}
