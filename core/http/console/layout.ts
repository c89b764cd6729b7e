import type { FastifyReply, FastifyRequest } from 'fastify';
import { assetUrl } from './assets';
import { html, raw, type Html } from './html';
import { csrfTokenFor } from './security';

/** What every console page knows of its request: who, whether they may change things, the form token. */
export interface PageContext {
  actor: string;
  role: string;
  /** An admin: change forms are shown (the server refuses a viewer's changes anyway). */
  canChange: boolean;
  csrf: string;
  path: string;
}

export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const principal = request.principal;
  return {
    actor: principal?.actor ?? 'anonymous', role: principal?.role ?? 'none', canChange: principal?.role === 'admin',
    csrf: csrfTokenFor(request, reply), path: request.url.split('?')[0],
  };
}

const NAV: ReadonlyArray<[string, string]> = [
  ['/console/', 'Dashboard'], ['/console/files', 'Files'], ['/console/accounts', 'Accounts'],
  ['/console/workflows', 'Workflows'], ['/console/jobs', 'Jobs'], ['/console/events', 'Events'], ['/console/audit', 'Audit'],
];

function current(path: string, link: string): boolean {
  return link === '/console/' ? path === '/console/' || path === '/console' : path.startsWith(link);
}

/** The hidden field every console form carries. */
export const csrfField = (ctx: Pick<PageContext, 'csrf'>): Html => html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/** A one-button form (POST) for an admin action, with an optional confirmation. */
export function actionButton(ctx: PageContext, action: string, label: string, options: { confirm?: string; danger?: boolean; fields?: Record<string, string> } = {}): Html {
  if (!ctx.canChange) return html``;
  return html`<form class="inline" method="post" action="${action}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>${csrfField(ctx)}${
    Object.entries(options.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${options.danger ? raw(' class="danger"') : ''}>${label}</button></form>`;
}

/** Success notices named by code in the redirect (`?done=`): fixed texts, never text from the URL. */
const DONE: Record<string, string> = {
  'key-added': 'Key added.', 'key-removed': 'Key removed.', disabled: 'Account disabled: its open sessions were ended.', enabled: 'Account enabled.',
  allowlist: 'Allowlist saved.', replayed: 'File queued for processing again.', saved: 'Workflow saved and reloaded.', created: 'Account created.',
  removed: 'Account removed: its files and an export of its data were moved to <data>/removed/.',
  retried: 'Delivery due again: the server sends it at its next poll.', acknowledged: 'Incident acknowledged.',
};

export function page(ctx: PageContext, title: string, body: Html, notice?: { ok?: string; bad?: string; done?: string }): Html {
  const done = notice?.done ? DONE[notice.done] : undefined;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fluxgate</title><link rel="stylesheet" href="${assetUrl('console.css')}"><script src="${assetUrl('console.js')}" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">fluxgate</span>
<nav aria-label="Main">${NAV.map(([link, label]) => html`<a href="${link}"${current(ctx.path, link) ? raw(' aria-current="page"') : ''}>${label}</a>`)}</nav>
<div class="who"><span>${ctx.actor} <span class="muted">(${ctx.role})</span></span>
<form class="inline" method="post" action="/console/logout">${csrfField(ctx)}<button type="submit">Log out</button></form></div></header>
<main id="main" tabindex="-1"><h1>${title}</h1>
${done ? html`<p class="notice ok" role="status">${done}</p>` : ''}${notice?.ok ? html`<p class="notice ok" role="status">${notice.ok}</p>` : ''}${notice?.bad ? html`<p class="notice bad" role="alert">${notice.bad}</p>` : ''}
${body}</main></body></html>`;
}

/** A page without the navigation: login, and errors before a login. */
export function barePage(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · fluxgate</title><link rel="stylesheet" href="${assetUrl('console.css')}"></head>
<body><main id="main">${body}</main></body></html>`;
}

export const stateBadge = (state: string | null | undefined): Html => html`<span class="state state-${state ?? 'none'}">${state ?? '–'}</span>`;

export function sendPage(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').serializer((p) => p as string).send(body.text);
}
