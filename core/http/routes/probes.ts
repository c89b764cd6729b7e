import { z } from 'zod';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { ERROR_RESPONSES } from '../error-status';

/** /healthz, /readyz (no token, nothing an attacker could use) and /metrics (a token, or http.metricsPublic). */
export function registerProbeRoutes(app: ZodApp, deps: HttpDeps): void {
  const Status = z.object({ status: z.string() });
  app.get('/healthz', {
    schema: { summary: 'the process answers', tags: ['probes'], security: [], response: { 200: Status } },
    config: { access: 'public' },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { summary: 'ready to serve: the store answers, SFTP listens, workflows are loaded', tags: ['probes'], security: [], response: { 200: Status, 503: Status } },
    config: { access: 'public' },
  }, async (_request, reply) => {
    let ready = false;
    try { ready = await deps.ready(); } catch (err) { deps.log.warn({ err }, 'readiness check failed'); }
    return ready ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' });
  });

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text format); needs a token unless http.metricsPublic', tags: ['probes'],
      produces: ['text/plain'], response: { 200: z.string().describe('Prometheus text exposition format'), 401: ERROR_RESPONSES[401], 429: ERROR_RESPONSES[429] },
    },
    config: { access: 'viewer' },
  }, async (_request, reply) => {
    const text = await deps.metrics.text();
    return reply.type(deps.metrics.contentType).serializer((p) => p as string).send(text);
  });
}
