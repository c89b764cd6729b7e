import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FluxgateError } from '../../errors';
import { SESSION_COOKIE } from '../auth';
import { html } from './html';
import { barePage, pageContext, page, sendPage } from './layout';
import { clearSessionCookie } from './security';

export const isConsoleRequest = (request: FastifyRequest): boolean => request.url === '/console' || request.url.startsWith('/console/');

/**
 * A console request's error as a page: no (or a stale) session sends a page load to the login
 * form; anything else is a page with the code and message, the status the API would answer with.
 */
export function sendConsoleError(request: FastifyRequest, reply: FastifyReply, err: FluxgateError, status: number, tls: boolean): FastifyReply {
  if (err.code === 'FG_UNAUTHENTICATED') {
    if (request.cookies?.[SESSION_COOKIE]) clearSessionCookie(reply, tls);
    if (request.method === 'GET') return reply.redirect(`/console/login?next=${encodeURIComponent(request.url)}`, 303);
  }
  const body = html`<p class="notice bad" role="alert">${err.message} <code>[${err.code}]</code></p><p><a href="/console/">Back to the dashboard</a></p>`;
  const title = err.code === 'FG_FORBIDDEN' ? 'Not allowed' : err.code === 'FG_NOT_FOUND' ? 'Not found' : 'Error';
  return sendPage(reply, request.principal ? page(pageContext(request, reply), title, body) : barePage(title, html`<h1>${title}</h1>${body}`), status);
}
