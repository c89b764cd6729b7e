import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps';
import { href, html, when } from './html';
import { page, pageContext, sendPage } from './layout';

const PAGE = 100;

/** The audit log, newest first, filtered by actor, a page at a time. */
export function registerAuditPage(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/console/audit', { schema: { hide: true } }, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const actor = q.actor || undefined;
    const before = q.cursor && /^\d+$/.test(q.cursor) ? Number(q.cursor) : undefined;
    const entries = await deps.audit.list({ limit: PAGE + 1, actor, before });
    const shown = entries.slice(0, PAGE);
    const next = entries.length > PAGE ? String(shown[shown.length - 1].id) : null;
    const body = html`<form class="filters card" method="get" action="/console/audit" role="search">
<div class="field"><label for="a-actor">Actor</label><input id="a-actor" name="actor" type="text" value="${actor ?? ''}" placeholder="operator:alice, token:ci"></div>
<div class="field"><button type="submit">Filter</button></div></form>
${shown.length === 0 ? html`<p class="muted">Nothing recorded.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">when</th><th scope="col">who</th><th scope="col">role</th><th scope="col">what</th><th scope="col">target</th><th scope="col" class="hide-narrow">from</th><th scope="col">result</th><th scope="col" class="hide-narrow">detail</th></tr></thead><tbody>
${shown.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.role}</td><td><code>${e.action}</code></td><td>${e.target ?? ''}</td><td class="hide-narrow">${e.address ?? ''}</td><td>${e.status ?? ''} ${e.code ?? ''}</td><td class="hide-narrow"><code>${Object.keys(e.detail).length ? JSON.stringify(e.detail) : ''}</code></td></tr>`)}
</tbody></table></div>`}
<nav class="pager" aria-label="Pages">${next ? html`<a href="${href('/console/audit', { actor, cursor: next })}" rel="next">Older entries</a>` : ''}</nav>`;
    return sendPage(reply, page(pageContext(request, reply), 'Audit', body));
  });
}
