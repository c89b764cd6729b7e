import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FluxgateError } from '../errors';
import { fluxgateVersion } from '../version';
import { auditHook } from './audit-hook';
import { authHook, LoginLimiter } from './auth';
import { statusOf } from './error-status';
import type { HttpDeps } from './deps';
import { registerAccountRoutes } from './routes/accounts';
import { registerFileRoutes } from './routes/files';
import { registerDirectoryRoutes } from './routes/directory';
import { registerWorkflowRoutes } from './routes/workflows';
import { registerJobRoutes } from './routes/jobs';
import { registerEventRoutes } from './routes/events';
import { registerServerRoutes } from './routes/server';
import { registerSessionRoutes } from './routes/session';
import { registerProbeRoutes } from './routes/probes';
import { registerAccountImportRoute } from './routes/account-import';
import { registerOperationRoutes } from './routes/operations';
import { registerConsole } from './console';
import { isConsoleRequest, sendConsoleError } from './console/errors-page';
import { registerConsoleSecurity } from './console/security';

export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** Routes anyone may call (no token): probes, the OpenAPI document, login; /metrics when http.metricsPublic. */
function isPublic(deps: HttpDeps) {
  return (request: { routeOptions: { config: { access?: string } }; url: string }): boolean =>
    request.routeOptions.config.access === 'public' || (deps.config.http.metricsPublic && request.url.split('?')[0] === '/metrics');
}

/** A FluxgateError for anything a route threw: input errors keep their message, the rest says to see the log. */
function asFluxgateError(err: FastifyError | Error, deps: HttpDeps): FluxgateError {
  if (err instanceof FluxgateError) return err;
  // @fastify/csrf-protection's refusals (FST_CSRF_MISSING_SECRET, FST_CSRF_INVALID_TOKEN).
  if ((err as FastifyError).code?.startsWith('FST_CSRF')) {
    return new FluxgateError('FG_CSRF', 'the form or request has no valid CSRF token: reload the page and try again (API scripts: use Authorization: Bearer, which needs none)');
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as FastifyError).validationContext ?? 'request';
    const issues = err.validation.map((v) => `${where}${v.instancePath ? ` ${v.instancePath.replace(/^\//, '').replace(/\//g, '.')}` : ''}: ${v.message}`);
    return new FluxgateError('FG_BAD_REQUEST', issues.join('; '));
  }
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status < 500) return new FluxgateError('FG_BAD_REQUEST', err.message);
  deps.log.error({ err }, 'request failed');
  return new FluxgateError('FG_INTERNAL', 'internal error: the server log has the details');
}

/** The operator plane's fastify instance: hooks, error shape, OpenAPI, every route. Not listening yet. */
export async function buildHttpApp(deps: HttpDeps): Promise<ZodApp> {
  const tls = deps.config.http.tls;
  const app = Fastify({
    // No request log (tokens travel in headers): failures are logged by the error handler.
    logger: false, bodyLimit: 4 * 1024 * 1024,
    ...(tls ? { https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } } : {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as ZodApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'fluxgate operator API', version: fluxgateVersion(), description: 'Accounts, keys, files, directory, workflows, jobs of a fluxgate server. Errors: {"error":{"code":"FG_…","message":"…"}}.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from `fluxgate token create` or POST /api/v1/login' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Cookies, forms and CSRF first: the auth hook reads the session cookie.
  await registerConsoleSecurity(app, tls !== undefined);
  const limiter = new LoginLimiter(deps.config.http.loginLimit);
  app.addHook('onRequest', authHook(deps.operators, limiter, isPublic(deps)));
  app.addHook('onResponse', auditHook(deps.audit, deps.log));
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    // The console's pages load only their own script and stylesheet, and are never framed.
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'same-origin');
    }
    return payload;
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const fg = asFluxgateError(err, deps);
    request.errorCode = fg.code;
    const status = fg.code === 'FG_BAD_REQUEST' && err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : statusOf(fg.code);
    if (isConsoleRequest(request)) return void sendConsoleError(request, reply, fg, status, tls !== undefined);
    const details = Object.keys(fg.details).length > 0 ? fg.details : undefined;
    void reply.code(status).send({ error: { code: fg.code, message: fg.message, ...(details ? { details } : {}) } });
  });
  app.setNotFoundHandler((request, reply) => {
    request.errorCode = 'FG_NOT_FOUND';
    if (isConsoleRequest(request)) return void sendConsoleError(request, reply, new FluxgateError('FG_NOT_FOUND', `no page ${request.url.split('?')[0]}`), 404, tls !== undefined);
    void reply.code(404).send({ error: { code: 'FG_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]} (see /api/v1/openapi.json)` } });
  });

  registerProbeRoutes(app, deps);
  registerSessionRoutes(app, deps, limiter);
  registerAccountRoutes(app, deps);
  registerFileRoutes(app, deps);
  registerDirectoryRoutes(app, deps);
  registerWorkflowRoutes(app, deps);
  registerJobRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerServerRoutes(app, deps);
  registerAccountImportRoute(app, deps);
  registerOperationRoutes(app, deps);
  registerConsole(app, deps, limiter);
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());
  await app.ready();
  return app;
}
