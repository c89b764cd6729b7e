import type { FastifyInstance } from 'fastify';
import { FluxgateError } from '../../errors';
import type { HttpDeps } from '../deps';
import { DIRECTORY_KINDS, directoryPage, type DirectoryKind } from '../routes/directory';
import { href, html } from './html';
import { page, pageContext, sendPage } from './layout';

const PAGE = 50;

/** An account's organizations, employees, users or documents: searched, a page at a time (as the API's directory route). */
export function registerDirectoryPage(app: FastifyInstance, deps: HttpDeps): void {
  const repo = deps.directory;
  app.get('/console/accounts/:id/directory/:kind', { schema: { hide: true } }, async (request, reply) => {
    const { id, kind } = request.params as { id: string; kind: string };
    if (!(DIRECTORY_KINDS as readonly string[]).includes(kind)) {
      throw new FluxgateError('FG_NOT_FOUND', `no directory "${kind}": the kinds are ${DIRECTORY_KINDS.join(', ')}`);
    }
    await deps.accounts.get(id);
    const q = request.query as Record<string, string | undefined>;
    const result = await directoryPage(repo, id, kind as DirectoryKind, { q: q.q || undefined, limit: PAGE, cursor: q.cursor });
    const columns = [...new Set(result.items.flatMap((r) => Object.keys(r)))].slice(0, 12);
    const base = `/console/accounts/${encodeURIComponent(id)}/directory/${kind}`;
    const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    const body = html`<nav class="actions" aria-label="Directory">${DIRECTORY_KINDS.map((k) => html`<a class="button${k === kind ? '' : ' secondary'}" href="/console/accounts/${encodeURIComponent(id)}/directory/${k}"${k === kind ? html` aria-current="page"` : ''}>${k}</a>`)}</nav>
<form class="filters card" method="get" action="${base}" role="search"><div class="field"><label for="d-q">Search (any field)</label><input id="d-q" name="q" type="search" value="${q.q ?? ''}"></div><div class="field"><button type="submit">Search</button></div></form>
<p class="muted">${result.total} ${kind}${q.q ? ' matching' : ''}</p>
${result.items.length === 0 ? '' : html`<div class="table-wrap"><table><thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>
${result.items.map((r) => html`<tr>${columns.map((c) => html`<td>${cell(r[c])}</td>`)}</tr>`)}
</tbody></table></div>`}
<nav class="pager" aria-label="Pages">${q.cursor ? html`<a href="${href(base, { q: q.q })}">First page</a>` : ''}${result.nextCursor ? html`<a href="${href(base, { q: q.q, cursor: result.nextCursor })}" rel="next">Next page</a>` : ''}</nav>`;
    return sendPage(reply, page(pageContext(request, reply), `${id}: ${kind}`, body));
  });
}
