import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../auth';

/**
 * Cookies, forms and CSRF for the console (and for API calls made with its cookie).
 * - @fastify/cookie parses and sets cookies; the session cookie is HttpOnly, SameSite=Strict,
 *   Secure under TLS, and holds a session token of OperatorService.login (hashed in the store).
 * - @fastify/csrf-protection: a secret in its own cookie, and a token in each form (`_csrf`) or
 *   in the `x-csrf-token` header, bound to the session (its token id) so a token of one session
 *   is refused for another. Checked on every change made with the cookie, and on every console
 *   form (the login form too). Calls with `Authorization: Bearer` are CSRF-free: a browser
 *   never adds that header by itself.
 * The HMAC key is made at start: after a restart, an open form must be reloaded.
 */
export async function registerConsoleSecurity(app: FastifyInstance, tls: boolean): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 1024 * 1024 });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'fg_csrf',
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, secure: tls },
    getUserInfo: (request: FastifyRequest) => userInfoOf(request),
    csrfOpts: { hmacKey: randomBytes(32) },
  });
  app.addHook('preHandler', (request, reply, done) => {
    if (!needsCsrf(request)) { done(); return; }
    app.csrfProtection(request, reply, done);
  });
}

const userInfoOf = (request: FastifyRequest): string => request.principal?.tokenId ?? 'anonymous';

/** Changes made with the session cookie, and every console form: anything but GET/HEAD/OPTIONS. */
function needsCsrf(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  return request.authVia === 'cookie' || request.url.startsWith('/console/');
}

/** The CSRF token a page puts in its forms (and the console's script in its header). */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: userInfoOf(request) });
}

export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: number, tls: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: tls, expires: new Date(expiresAt) });
}

export function clearSessionCookie(reply: FastifyReply, tls: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: tls });
}
