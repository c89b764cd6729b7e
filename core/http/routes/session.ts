import { z } from 'zod';
import { FluxgateError } from '../../errors';
import type { LoginLimiter } from '../auth';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { responses } from '../schemas';

/** Logins of operators (a session token, for people and the console), logout, and who a token is. */
export function registerSessionRoutes(app: ZodApp, deps: HttpDeps, limiter: LoginLimiter): void {
  app.post('/api/v1/login', {
    schema: {
      summary: 'log in with an operator name and password: a session token valid http.sessionMinutes', tags: ['session'], security: [],
      body: z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
      response: responses({ 200: z.object({ token: z.string(), name: z.string(), role: z.string(), expiresAt: z.string() }) }),
    },
    config: { access: 'public' },
  }, async (request) => {
    const { name, password } = request.body;
    request.auditActor = `operator:${name}`;
    limiter.assertAllowed(request.ip, name);
    const session = await deps.operators.login(name, password, deps.config.http.sessionMinutes);
    if (!session) {
      limiter.fail(request.ip, name);
      throw new FluxgateError('FG_UNAUTHENTICATED', 'wrong operator name or password');
    }
    limiter.succeed(request.ip, name);
    return { token: session.token, name, role: session.operator.role, expiresAt: new Date(session.expiresAt).toISOString() };
  });

  app.post('/api/v1/logout', {
    schema: { summary: 'end the session (or revoke the token) this request is made with', tags: ['session'], response: responses({ 200: z.object({ loggedOut: z.boolean() }) }) },
    config: { access: 'viewer' },
  }, async (request) => {
    await deps.operators.logout(request.principal!);
    return { loggedOut: true };
  });

  app.get('/api/v1/me', {
    schema: { summary: 'who this token is, and its role', tags: ['session'], response: responses({ 200: z.object({ actor: z.string(), role: z.string() }) }) },
  }, async (request) => ({ actor: request.principal!.actor, role: request.principal!.role }));
}
