import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps';
import { href, html, when, type Html } from './html';
import { page, pageContext, sendPage, stateBadge } from './layout';

/** The dashboard: today's files by flux and state, what failed, the queue, logins, what needs attention. */
export function registerDashboardPage(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/console/', { schema: { hide: true } }, async (request, reply) => {
    const d = await deps.store.operations.dashboard();
    const ctx = pageContext(request, reply);
    const states = [...new Set(d.today.map((r) => r.state))].sort();
    const fluxes = [...new Set(d.today.map((r) => r.flux))].sort();
    const count = (flux: string, state: string) => d.today.find((r) => r.flux === flux && r.state === state)?.n ?? 0;
    const total = d.today.reduce((n, r) => n + r.n, 0);
    const attention: Html[] = [
      ...(d.dead > 0 ? [html`<li><a href="${href('/console/files', { state: 'dead' })}">${d.dead} dead file${d.dead === 1 ? '' : 's'}</a>: their last attempt failed; fix the cause, then replay.</li>`] : []),
      ...(d.recentRejected.length > 0 ? [html`<li><a href="${href('/console/files', { state: 'rejected' })}">rejected files</a>: open one to read its report.</li>`] : []),
      ...deps.workflows.problems.map((p) => html`<li>workflow problem in <code>${p.file}</code>: ${p.message} (<a href="/console/workflows">workflows</a>)</li>`),
      ...d.failedJobs.map((j) => html`<li>job <a href="${href('/console/jobs', { job: j.job })}">${j.job}</a> failed at ${when(j.startedAt)}${j.error ? `: ${j.error}` : ''}</li>`),
      ...d.expiringKeys.map((k) => html`<li>a key of <a href="/console/accounts/${encodeURIComponent(k.account)}">${k.account}</a> expires ${when(k.expiresAt)} (<code>${k.fingerprint}</code>)</li>`),
      ...(d.queue.oldestWaitingSeconds > 300 ? [html`<li>the oldest queued file has waited ${d.queue.oldestWaitingSeconds} s for a worker</li>`] : []),
    ];
    const body = html`
<section class="grid" aria-label="Summary">
  <div class="card"><div class="muted">Files today</div><div class="stat">${total}</div></div>
  <div class="card"><div class="muted">Rejected today</div><div class="stat">${d.today.filter((r) => r.state === 'rejected').reduce((n, r) => n + r.n, 0)}</div></div>
  <div class="card"><div class="muted">Dead files</div><div class="stat">${d.dead}</div></div>
  <div class="card"><div class="muted">Queue (waiting / in work)</div><div class="stat">${d.queue.ready} / ${d.queue.leased}</div><div class="muted">oldest waiting ${d.queue.oldestWaitingSeconds} s</div></div>
  <div class="card"><div class="muted">Accounts logged in today (SFTP)</div><div class="stat">${d.accountsLoggedInToday}</div>
    <div class="muted">${d.disabledAccounts} disabled account${d.disabledAccounts === 1 ? '' : 's'}</div></div>
  <div class="card"><div class="muted">Operator logins today (ok / refused)</div><div class="stat">${d.operatorLogins.ok} / ${d.operatorLogins.refused}</div></div>
</section>
<h2>Needs attention</h2>
<div class="card">${attention.length ? html`<ul>${attention}</ul>` : html`<p class="muted">Nothing: no dead file, no workflow problem, no failed job, no key expiring within 14 days.</p>`}</div>
<h2>Files today by flux and state</h2>
${total === 0 ? html`<p class="muted">No file received since midnight (UTC).</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">flux</th>${states.map((s) => html`<th scope="col" class="num">${s}</th>`)}</tr></thead><tbody>
${fluxes.map((f) => html`<tr><th scope="row">${f || '(none)'}</th>${states.map((s) => html`<td class="num"><a href="${href('/console/files', { flux: f || undefined, state: s, since: new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString() })}">${count(f, s)}</a></td>`)}</tr>`)}
</tbody></table></div>`}
<h2>Latest rejected files</h2>
${d.recentRejected.length === 0 ? html`<p class="muted">None.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">received</th><th scope="col">account</th><th scope="col">file</th><th scope="col">state</th><th scope="col" class="hide-narrow">why</th></tr></thead><tbody>
${d.recentRejected.map((f) => html`<tr><td>${when(f.receivedAt)}</td><td>${f.account}</td><td><a href="/console/files/${encodeURIComponent(f.id)}">${f.name}</a></td><td>${stateBadge('rejected')}</td><td class="hide-narrow">${f.summary ?? ''}</td></tr>`)}
</tbody></table></div>`}
${d.deadFiles.length === 0 ? '' : html`<h2>Dead files</h2><ul>${d.deadFiles.map((f) => html`<li><a href="/console/files/${encodeURIComponent(f.id)}">${f.name}</a> (${f.account}, ${when(f.receivedAt)})</li>`)}</ul>`}`;
    return sendPage(reply, page(ctx, 'Dashboard', body));
  });
}
