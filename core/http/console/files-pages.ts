import { statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { FluxgateError } from '../../errors';
import { clientText, eventView } from '../../intake/file-view';
import { FILE_STATES, type FileState, type JournalFile } from '../../store/journal-repository';
import { replayFile } from '../../workflow/replay';
import type { HttpDeps } from '../deps';
import { bytes, href, html, when, type Html } from './html';
import { actionButton, page, pageContext, sendPage, stateBadge } from './layout';
import { readReportTable } from './report-table';

type Query = Record<string, string | undefined>;
const PAGE = 50;

/** Files: the journal filtered, searched and paged; a file's page (timeline, receipt, report as a table, downloads, replay). */
export function registerFilePages(app: FastifyInstance, deps: HttpDeps): void {
  const { journal } = deps;

  app.get('/console/files', { schema: { hide: true } }, async (request, reply) => {
    const q = request.query as Query;
    const state = FILE_STATES.includes(q.state as FileState) ? (q.state as FileState) : undefined;
    const sinceMs = q.since ? Date.parse(q.since) : undefined;
    const filters = { account: q.account || undefined, flux: q.flux || undefined, state, since: q.since && !Number.isNaN(sinceMs) ? q.since : undefined, q: q.q || undefined };
    let problem: string | undefined;
    let result = { files: [] as JournalFile[], nextCursor: null as string | null };
    try {
      result = await journal.list({ accountId: filters.account, flux: filters.flux, state, since: filters.since ? sinceMs : undefined, q: filters.q, limit: PAGE, cursor: q.cursor || undefined });
    } catch (err) {
      if (!(err instanceof FluxgateError)) throw err;
      problem = `${err.message} [${err.code}]`;
    }
    const body = html`
<form class="filters card" method="get" action="/console/files" role="search">
  <div class="field"><label for="f-q">Search</label><input id="f-q" name="q" type="search" value="${filters.q ?? ''}" placeholder="name, outcome or file id"></div>
  <div class="field"><label for="f-account">Account</label><input id="f-account" name="account" type="text" value="${filters.account ?? ''}" size="12"></div>
  <div class="field"><label for="f-flux">Flux</label><input id="f-flux" name="flux" type="text" value="${filters.flux ?? ''}" size="8"></div>
  <div class="field"><label for="f-state">State</label><select id="f-state" name="state"><option value="">any</option>${FILE_STATES.map((s) => html`<option${s === state ? html` selected` : ''}>${s}</option>`)}</select></div>
  <div class="field"><label for="f-since">Received since (ISO 8601)</label><input id="f-since" name="since" type="text" value="${filters.since ?? ''}" placeholder="2027-01-31T00:00:00Z" size="22"></div>
  <div class="field"><button type="submit">Filter</button> <a class="button secondary" href="/console/files">Clear</a></div>
</form>
${result.files.length === 0 ? html`<p class="muted">No file matches.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">received</th><th scope="col">account</th><th scope="col">flux</th><th scope="col">file</th><th scope="col">state</th><th scope="col" class="num hide-narrow">size</th><th scope="col" class="hide-narrow">outcome</th></tr></thead><tbody>
${result.files.map((f) => html`<tr><td>${when(f.receivedAt)}</td><td>${f.accountId}</td><td>${f.flux ?? '–'}</td><td><a href="/console/files/${encodeURIComponent(f.id)}">${f.name}</a></td><td>${stateBadge(f.state)}</td><td class="num hide-narrow">${bytes(f.size)}</td><td class="hide-narrow">${outcomeText(f)}</td></tr>`)}
</tbody></table></div>`}
<nav class="pager" aria-label="Pages">${q.cursor ? html`<a href="${href('/console/files', filters)}">First page</a>` : ''}${result.nextCursor ? html`<a href="${href('/console/files', { ...filters, cursor: result.nextCursor })}" rel="next">Next page</a>` : ''}</nav>`;
    return sendPage(reply, page(pageContext(request, reply), 'Files', body, { bad: problem }));
  });

  app.get('/console/files/:id', { schema: { hide: true } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const file = await journal.get(id);
    if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal`, { fileId: id });
    const timeline = await journal.events(file.id);
    const ctx = pageContext(request, reply);
    const download = (kind: string, path: string | null): Html => (path && statSync(path, { throwIfNoEntry: false })?.isFile()
      ? html`<a class="button secondary" href="/api/v1/files/${encodeURIComponent(file.id)}/${kind}" download>Download ${kind}</a>` : html`<span class="muted">no ${kind}</span>`);
    const report = file.reportPath && statSync(file.reportPath, { throwIfNoEntry: false })?.isFile() ? readReportTable(file.reportPath) : undefined;
    const canReplay = ['processed', 'rejected', 'dead', 'failed'].includes(file.state);
    const body = html`
<div class="card"><dl class="facts">
  <dt>File</dt><dd><code>${file.name}</code></dd><dt>Id</dt><dd><code>${file.id}</code></dd>
  <dt>Account</dt><dd><a href="/console/accounts/${encodeURIComponent(file.accountId)}">${file.accountId}</a></dd>
  <dt>Sent from</dt><dd>${file.client ? html`<code>${clientText(file.client)}</code>` : html`<span class="muted">${clientText(null)}</span>`}</dd>
  <dt>Flux</dt><dd>${file.flux ?? '–'}</dd><dt>State</dt><dd>${stateBadge(file.state)} (${file.attempts} attempt${file.attempts === 1 ? '' : 's'})</dd>
  <dt>Outcome</dt><dd>${outcomeText(file)}</dd>
  <dt>Received</dt><dd>${when(file.receivedAt)}</dd><dt>Processed</dt><dd>${when(file.processedAt)}</dd>
  <dt>Size</dt><dd>${bytes(file.size)}</dd><dt>SHA-256</dt><dd><code>${file.sha256}</code></dd><dt>Kept at</dt><dd><code>${file.location}</code></dd>
</dl>
<div class="actions">${download('input', file.location)}${download('receipt', file.receiptWrittenAt ? file.receiptPath : null)}${download('report', file.reportPath)}
${canReplay ? actionButton(ctx, `/console/files/${encodeURIComponent(file.id)}/replay`, 'Replay', { confirm: `Process ${file.name} again?` }) : ''}</div></div>
<h2>Report</h2>
${report ? reportTable(report) : html`<p class="muted">${file.reportPath ? 'The report cannot be shown here: download it.' : 'No report (yet).'}</p>`}
<h2>Timeline</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">when</th><th scope="col">event</th><th scope="col">details</th></tr></thead><tbody>
${timeline.map(eventView).map(({ at, type, ...detail }) => html`<tr><td>${when(at as string)}</td><td>${String(type)}</td><td><code>${Object.keys(detail).length ? JSON.stringify(detail) : ''}</code></td></tr>`)}
</tbody></table></div>`;
    return sendPage(reply, page(ctx, `File ${file.name}`, body, { done: (request.query as Query).done }));
  });

  app.post('/console/files/:id/replay', { schema: { hide: true } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    await replayFile(id, deps.journal, deps.files);
    return reply.redirect(`/console/files/${encodeURIComponent(id)}?done=replayed`, 303);
  });
}

function outcomeText(f: JournalFile): string {
  const o = f.outcome as { summary?: string; code?: string; result?: string } | null;
  if (!o) return '';
  return [o.code, o.summary].filter(Boolean).join(': ') || o.result || '';
}

function reportTable(r: NonNullable<ReturnType<typeof readReportTable>>): Html {
  const severity = r.columns.indexOf('severity');
  return html`<div class="card"><dl class="facts">${r.summary.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></div>
${r.rows.length === 0 ? html`<p class="muted">No row message.</p>` : html`<div class="table-wrap"><table aria-label="Report messages"><thead><tr>${r.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>
${r.rows.map((row) => html`<tr>${row.map((c, i) => html`<td>${i === severity ? html`<span class="state state-${c}">${c}</span>` : c}</td>`)}</tr>`)}
</tbody></table></div>`}${r.notShown > 0 ? html`<p class="muted">${r.notShown} more messages: download the report.</p>` : ''}`;
}
