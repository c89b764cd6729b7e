import type { FastifyInstance } from 'fastify';
import { FluxgateError } from '../../errors';
import { acknowledgeExpectation, statusOf } from '../../notify/expectations';
import { EVENT_TYPES } from '../../store/event-types';
import type { HttpDeps } from '../deps';
import { href, html, when } from './html';
import { actionButton, page, pageContext, sendPage, stateBadge } from './layout';

type Query = Record<string, string | undefined>;
const families = [...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`))];

/**
 * Events (issue #22, docs/events.md): the expectations and their state (acknowledge an incident),
 * the deliveries that failed or died (send again), and the recent events, filtered.
 */
export function registerEventPages(app: FastifyInstance, deps: HttpDeps): void {
  const hidden = { schema: { hide: true } };
  const { events, deliveries, expectations } = deps.store;

  app.get('/console/events', hidden, async (request, reply) => {
    const ctx = pageContext(request, reply);
    const q = request.query as Query;
    const type = q.type && ([...EVENT_TYPES, ...families] as string[]).includes(q.type) ? q.type : undefined;
    const account = q.account || undefined;
    const now = Date.now();
    const statuses = await Promise.all(deps.config.expectations.map((spec) => statusOf(expectations, spec, now)));
    const troubled = [...await deliveries.list({ state: 'dead', limit: 50 }), ...await deliveries.list({ state: 'failed', limit: 50 })];
    const recent = (await events.list({ type, account, limit: 100 })).reverse();
    const body = html`<h2>Expected files</h2>
${statuses.length === 0 ? html`<p class="muted">No expectation configured (<code>expectations:</code> in the config file).</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">expectation</th><th scope="col">account</th><th scope="col">files</th><th scope="col">state</th><th scope="col">period</th><th scope="col">file</th><th scope="col">acknowledged</th></tr></thead><tbody>
${statuses.map((s) => html`<tr><td>${s.spec.name}</td><td>${s.spec.account}</td><td>${s.spec.flux ?? ''} ${s.spec.namePattern ?? ''}</td><td>${stateBadge(s.state)}</td><td>${when(s.period.start)} → ${when(s.period.deadline)}</td><td>${s.file ? html`<a href="/console/files/${s.file.id}">${s.file.name}</a>` : '–'}</td><td>${s.record?.acknowledgedAt
  ? html`${when(s.record.acknowledgedAt)} by ${s.record.acknowledgedBy ?? ''}`
  : s.state === 'late' || s.state === 'missed' ? actionButton(ctx, `/console/expectations/${encodeURIComponent(s.spec.name)}/ack`, 'Acknowledge') : '–'}</td></tr>`)}
</tbody></table></div>`}
<h2>Deliveries that failed</h2>
${troubled.length === 0 ? html`<p class="muted">Every delivery went through (or is waiting for its first attempt).</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">delivery</th><th scope="col">state</th><th scope="col">to</th><th scope="col">event</th><th scope="col">attempts</th><th scope="col">last error</th><th scope="col"></th></tr></thead><tbody>
${troubled.map((d) => html`<tr><td>${d.id}</td><td>${stateBadge(d.state)}${d.state === 'failed' ? html` next ${when(d.dueAt)}` : ''}</td><td>${d.subscription}</td><td><code>${d.eventId}</code></td><td>${d.attempts}</td><td>${d.lastError ?? ''}</td><td>${actionButton(ctx, `/console/deliveries/${d.id}/retry`, 'Send again')}</td></tr>`)}
</tbody></table></div>`}
<h2>Recent events</h2>
<form class="filters card" method="get" action="/console/events" role="search">
<div class="field"><label for="e-type">Type</label><select id="e-type" name="type"><option value="">all</option>${[...families, ...EVENT_TYPES].map((t) => html`<option${t === type ? html` selected` : ''}>${t}</option>`)}</select></div>
<div class="field"><label for="e-account">Account</label><input id="e-account" name="account" type="text" value="${account ?? ''}"></div>
<div class="field"><button type="submit">Filter</button></div></form>
${recent.length === 0 ? html`<p class="muted">No event.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">when</th><th scope="col">type</th><th scope="col">account</th><th scope="col">name</th><th scope="col">code</th><th scope="col" class="hide-narrow">summary</th></tr></thead><tbody>
${recent.map(({ event: e }) => html`<tr><td>${when(e.time)}</td><td>${e.type}</td><td>${e.account ?? ''}</td><td>${e.fileId ? html`<a href="/console/files/${e.fileId}">${e.name ?? e.fileId}</a>` : (e.name ?? '')}</td><td>${e.code ?? ''}</td><td class="hide-narrow">${e.summary ?? ''}</td></tr>`)}
</tbody></table></div>`}
<p class="muted"><a href="${href('/api/v1/events', { type, account })}">as JSON</a> · the JSON Schema of each type: <code>fluxgate events schema</code></p>`;
    return sendPage(reply, page(ctx, 'Events', body, { done: q.done }));
  });

  app.post('/console/deliveries/:id/retry', hidden, async (request, reply) => {
    const id = Number((request.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 1) throw new FluxgateError('FG_DELIVERY_NOT_FOUND', `no delivery ${(request.params as { id: string }).id}`);
    await deliveries.retry(id);
    return reply.redirect('/console/events?done=retried', 303);
  });

  app.post('/console/expectations/:name/ack', hidden, async (request, reply) => {
    await acknowledgeExpectation(expectations, deps.config.expectations, (request.params as { name: string }).name, request.principal?.actor ?? 'operator', Date.now());
    return reply.redirect('/console/events?done=acknowledged', 303);
  });
}
