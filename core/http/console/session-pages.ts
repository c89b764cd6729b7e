import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FluxgateError } from '../../errors';
import type { LoginLimiter } from '../auth';
import { statusOf } from '../error-status';
import type { HttpDeps } from '../deps';
import { html } from './html';
import { barePage, sendPage } from './layout';
import { clearSessionCookie, csrfTokenFor, setSessionCookie } from './security';

type Form = Record<string, string | undefined>;

/** Where to go after a login: a console page of this server, nothing else (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && next.startsWith('/console/') && !next.includes('//') && !/[\r\n\\]/.test(next) ? next : '/console/';
}

/** The login form, the login itself (cookie session, rate-limited as the API's), logout. */
export function registerSessionPages(app: FastifyInstance, deps: HttpDeps, limiter: LoginLimiter): void {
  const tls = deps.config.http.tls !== undefined;
  const loginPage = (request: FastifyRequest, reply: Parameters<typeof sendPage>[0], next: string, problem?: string, status = 200) =>
    sendPage(reply, barePage('Log in', html`<div class="login card"><h1>fluxgate</h1>
${problem ? html`<p class="notice bad" role="alert">${problem}</p>` : ''}
<form class="stack" method="post" action="/console/login">
<input type="hidden" name="_csrf" value="${csrfTokenFor(request, reply)}"><input type="hidden" name="next" value="${next}">
<label for="login-name">Operator name</label><input id="login-name" name="name" type="text" autocomplete="username" required autofocus>
<label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Log in</button></p></form>
<p class="muted">No operator yet? On the server: <code>fluxgate admin add &lt;name&gt; --role admin</code></p></div>`), status);

  const toConsole = { schema: { hide: true }, config: { access: 'public' as const } };
  app.get('/', toConsole, async (_request, reply) => reply.redirect('/console/'));
  app.get('/console', toConsole, async (_request, reply) => reply.redirect('/console/'));

  app.get('/console/login', toConsole, async (request, reply) => loginPage(request, reply, safeNext((request.query as Form).next)));

  app.post('/console/login', toConsole, async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const name = (form.name ?? '').trim();
    const next = safeNext(form.next);
    request.auditActor = `operator:${name}`;
    try {
      if (!name || !form.password) throw new FluxgateError('FG_BAD_REQUEST', 'give an operator name and its password');
      limiter.assertAllowed(request.ip, name);
      const session = await deps.operators.login(name, form.password, deps.config.http.sessionMinutes);
      if (!session) {
        limiter.fail(request.ip, name);
        throw new FluxgateError('FG_UNAUTHENTICATED', 'wrong operator name or password');
      }
      limiter.succeed(request.ip, name);
      setSessionCookie(reply, session.token, session.expiresAt, tls);
      return reply.redirect(next, 303);
    } catch (err) {
      if (!(err instanceof FluxgateError)) throw err;
      request.errorCode = err.code;
      return loginPage(request, reply, next, `${err.message} [${err.code}]`, statusOf(err.code));
    }
  });

  app.post('/console/logout', { schema: { hide: true }, config: { access: 'viewer' } }, async (request, reply) => {
    await deps.operators.logout(request.principal!);
    clearSessionCookie(reply, tls);
    return reply.redirect('/console/login', 303);
  });
}
