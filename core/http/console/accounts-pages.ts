import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isKeyExpired } from '../../accounts/key-policy';
import { createAccountWithKeys } from '../../accounts/create-with-keys';
import { splitList } from '../../accounts/account-csv';
import { FluxgateError } from '../../errors';
import { statusOf } from '../error-status';
import { DIRECTORY_KINDS } from '../routes/directory';
import type { HttpDeps } from '../deps';
import { bytes, href, html, when } from './html';
import { actionButton, csrfField, page, pageContext, sendPage, stateBadge } from './layout';
import { treeUsage } from './tree-usage';

type Form = Record<string, string | undefined>;

/** Accounts: the list (and a form to add one), an account's page (keys, allowlist, disable/enable, tree usage). */
export function registerAccountPages(app: FastifyInstance, deps: HttpDeps): void {
  const svc = deps.accounts;
  const hidden = { schema: { hide: true } };

  const listPage = async (request: FastifyRequest, reply: FastifyReply, problem?: FluxgateError, form: Form = {}, done?: string) => {
    const ctx = pageContext(request, reply);
    const accounts = await svc.list();
    const keys = await deps.store.accounts.allKeys();
    const keyCount = (id: string): number => keys.filter((k) => k.accountId === id).length;
    const body = html`
${accounts.length === 0 ? html`<p class="muted">No account yet.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">id</th><th scope="col">profile</th><th scope="col">partner</th><th scope="col">status</th><th scope="col" class="num">keys</th><th scope="col" class="hide-narrow">allowed addresses</th><th scope="col" class="hide-narrow">last login</th></tr></thead><tbody>
${accounts.map((a) => html`<tr><td><a href="/console/accounts/${encodeURIComponent(a.id)}">${a.id}</a></td><td>${a.profile}</td><td>${a.partner ?? '–'}</td><td>${stateBadge(a.enabled ? 'enabled' : 'disabled')}</td><td class="num">${keyCount(a.id)}</td><td class="hide-narrow">${a.allowIps.length ? a.allowIps.join(', ') : 'any'}</td><td class="hide-narrow">${when(a.lastLoginAt)}</td></tr>`)}
</tbody></table></div>`}
${ctx.canChange ? html`<h2>Add an account</h2>
<form class="stack card" method="post" action="/console/accounts">${csrfField(ctx)}
<label for="new-id">Id</label><input id="new-id" name="id" type="text" required value="${form.id ?? ''}" aria-describedby="new-id-help"><div id="new-id-help" class="muted">1-32 lower-case letters, digits, "-" and "_"</div>
<label for="new-profile">Profile</label><select id="new-profile" name="profile"><option${form.profile === 'dropbox' ? '' : html` selected`}>exchange</option><option${form.profile === 'dropbox' ? html` selected` : ''}>dropbox</option></select>
<label for="new-partner">Partner id (optional)</label><input id="new-partner" name="partner" type="text" value="${form.partner ?? ''}">
<label for="new-keys">Public keys (OpenSSH lines or RFC 4716 blocks)</label><textarea id="new-keys" name="keys" rows="4">${form.keys ?? ''}</textarea>
<label for="new-allow">Allowed addresses (one per line or "|"; empty: any)</label><textarea id="new-allow" name="allowIps" rows="2">${form.allowIps ?? ''}</textarea>
<p><button type="submit">Add the account</button></p></form>` : ''}`;
    return sendPage(reply, page(ctx, 'Accounts', body, { bad: problem ? `${problem.message} [${problem.code}]` : undefined, done }), problem ? statusOf(problem.code) : 200);
  };

  const accountPage = async (request: FastifyRequest, reply: FastifyReply, id: string, problem?: FluxgateError, form: Form = {}) => {
    const ctx = pageContext(request, reply);
    const a = await svc.get(id);
    const keys = await svc.keys(id);
    const usage = treeUsage(deps.paths.accountRoot(id));
    const base = `/console/accounts/${encodeURIComponent(id)}`;
    const body = html`
<div class="card"><dl class="facts">
  <dt>Profile</dt><dd>${a.profile}</dd><dt>Partner</dt><dd>${a.partner ?? '–'}</dd>
  <dt>Status</dt><dd>${stateBadge(a.enabled ? 'enabled' : 'disabled')}${a.enabled ? '' : html` ${a.disabledReason ?? ''} (${when(a.disabledAt)})`}</dd>
  <dt>Created</dt><dd>${when(a.createdAt)}</dd><dt>Last login</dt><dd>${when(a.lastLoginAt)}</dd>
  <dt>Files</dt><dd><a href="${href('/console/files', { account: id })}">this account's files</a></dd>
  <dt>Directory</dt><dd>${DIRECTORY_KINDS.map((k, i) => html`${i ? ', ' : ''}<a href="${base}/directory/${k}">${k}</a>`)}</dd>
</dl>
<div class="actions">${a.enabled
    ? actionButton(ctx, `${base}/disable`, 'Disable', { danger: true, confirm: `Disable ${id}? Its open sessions end.` })
    : actionButton(ctx, `${base}/enable`, 'Enable')}
${actionButton(ctx, `${base}/remove`, 'Remove the account', { danger: true, confirm: `Remove ${id}? Its files and an export of its data are moved to <data>/removed/, its keys and rows deleted.` })}</div></div>
<h2>Keys</h2>
${keys.length === 0 ? html`<p class="muted">No key: nobody can log in.</p>` : html`<div class="table-wrap"><table><thead><tr><th scope="col">type</th><th scope="col" class="num">bits</th><th scope="col">fingerprint</th><th scope="col" class="hide-narrow">comment</th><th scope="col" class="hide-narrow">added</th><th scope="col">expires</th>${ctx.canChange ? html`<th scope="col"><span class="muted">action</span></th>` : ''}</tr></thead><tbody>
${keys.map((k) => html`<tr><td>${k.type}</td><td class="num">${k.bits}</td><td><code>${k.fingerprint}</code></td><td class="hide-narrow">${k.comment}</td><td class="hide-narrow">${when(k.addedAt)}</td><td>${when(k.expiresAt)} ${isKeyExpired(k) ? stateBadge('expired') : ''}</td>${ctx.canChange ? html`<td>${actionButton(ctx, `${base}/keys/remove`, 'Remove', { danger: true, confirm: `Remove key ${k.fingerprint}?`, fields: { fingerprint: k.fingerprint } })}</td>` : ''}</tr>`)}
</tbody></table></div>`}
${ctx.canChange ? html`<form class="stack card" method="post" action="${base}/keys">${csrfField(ctx)}
<label for="add-key">Add a key: paste a public key (OpenSSH line or RFC 4716 block)</label><textarea id="add-key" name="key" rows="4" required>${form.key ?? ''}</textarea>
<p><button type="submit">Add the key</button></p></form>` : ''}
<h2>Allowed addresses</h2>
${ctx.canChange ? html`<form class="stack card" method="post" action="${base}/allowlist">${csrfField(ctx)}
<label for="allow-ips">Addresses and CIDRs, one per line (empty: any address)</label><textarea id="allow-ips" name="allowIps" rows="3">${form.allowIps ?? a.allowIps.join('\n')}</textarea>
<p><button type="submit">Save the allowlist</button></p></form>` : html`<p>${a.allowIps.length ? a.allowIps.join(', ') : 'any address'}</p>`}
<h2>Tree usage</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">folder</th><th scope="col" class="num">files</th><th scope="col" class="num">size</th></tr></thead><tbody>
${usage.top.map((t) => html`<tr><td><code>${t.dir}</code></td><td class="num">${t.files}</td><td class="num">${bytes(t.bytes)}</td></tr>`)}
<tr><th scope="row">total</th><td class="num">${usage.files}${usage.truncated ? '+' : ''}</td><td class="num">${bytes(usage.bytes)}</td></tr></tbody></table></div>`;
    return sendPage(reply, page(ctx, `Account ${id}`, body, { bad: problem ? `${problem.message} [${problem.code}]` : undefined, done: (request.query as Form).done }),
      problem ? statusOf(problem.code) : 200);
  };

  /** Runs an admin action; a refused input is shown on the page it came from, with the form as typed. */
  const act = (render: (request: FastifyRequest, reply: FastifyReply, problem: FluxgateError, form: Form) => Promise<FastifyReply>,
    run: (request: FastifyRequest, form: Form) => Promise<string>) => async (request: FastifyRequest, reply: FastifyReply) => {
    const form = (request.body ?? {}) as Form;
    try {
      return reply.redirect(await run(request, form), 303);
    } catch (err) {
      if (!(err instanceof FluxgateError) || statusOf(err.code) >= 500) throw err;
      request.errorCode = err.code;
      return render(request, reply, err, form);
    }
  };
  const idOf = (request: FastifyRequest): string => (request.params as { id: string }).id;
  const onAccount = (request: FastifyRequest, reply: FastifyReply, problem: FluxgateError, form: Form) => accountPage(request, reply, idOf(request), problem, form);
  const back = (request: FastifyRequest, done: string): string => `/console/accounts/${encodeURIComponent(idOf(request))}?done=${done}`;

  app.get('/console/accounts', hidden, async (request, reply) => listPage(request, reply, undefined, {}, (request.query as Form).done));
  app.get('/console/accounts/:id', hidden, async (request, reply) => accountPage(request, reply, idOf(request)));

  app.post('/console/accounts', hidden, act(listPage, async (_request, form) => {
    const { account } = await createAccountWithKeys(svc, deps.config, {
      id: (form.id ?? '').trim(), profile: form.profile === 'dropbox' ? 'dropbox' : 'exchange', partner: form.partner?.trim() || null,
      keys: splitPastedKeys(form.keys ?? ''), allowIps: splitList((form.allowIps ?? '').replace(/\s+/g, '|')),
    });
    return `/console/accounts/${encodeURIComponent(account.id)}?done=created`;
  }));
  app.post('/console/accounts/:id/keys', hidden, act(onAccount, async (request, form) => {
    await svc.addKey(idOf(request), form.key ?? '');
    return back(request, 'key-added');
  }));
  app.post('/console/accounts/:id/keys/remove', hidden, act(onAccount, async (request, form) => {
    await svc.removeKey(idOf(request), form.fingerprint ?? '');
    return back(request, 'key-removed');
  }));
  app.post('/console/accounts/:id/allowlist', hidden, act(onAccount, async (request, form) => {
    await svc.update(idOf(request), { allowIps: splitList((form.allowIps ?? '').replace(/\s+/g, '|')) });
    return back(request, 'allowlist');
  }));
  app.post('/console/accounts/:id/remove', hidden, act(onAccount, async (request) => { await svc.remove(idOf(request)); return '/console/accounts?done=removed'; }));
  app.post('/console/accounts/:id/disable', hidden, act(onAccount, async (request) => { await svc.disable(idOf(request)); return back(request, 'disabled'); }));
  app.post('/console/accounts/:id/enable', hidden, act(onAccount, async (request) => { await svc.enable(idOf(request)); return back(request, 'enabled'); }));
}

/** Pasted keys: one OpenSSH line each, or RFC 4716 blocks (which span lines). */
export function splitPastedKeys(text: string): string[] {
  const keys: string[] = [];
  let block: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (block) {
      block.push(line);
      if (line.trim().startsWith('---- END SSH2 PUBLIC KEY')) { keys.push(block.join('\n')); block = undefined; }
    } else if (line.trim().startsWith('---- BEGIN SSH2 PUBLIC KEY')) block = [line.trim()];
    else if (line.trim() !== '') keys.push(line.trim());
  }
  if (block) keys.push(block.join('\n'));
  return keys;
}
