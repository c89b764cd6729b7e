import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditRepository } from '../store/ports/audit';
import type { Logger } from '../logging/logger';

/** Body fields never written to the audit log. */
const SECRET_FIELDS = new Set(['password', 'token', '_csrf']);
const MAX_TEXT = 200;

/** What the audit log keeps of a request body: no secrets, long texts (a workflow source, a key) shortened. */
function auditedBody(body: unknown): Record<string, unknown> | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (SECRET_FIELDS.has(k)) out[k] = '(not recorded)';
    else if (typeof v === 'string' && v.length > MAX_TEXT) out[k] = `${v.slice(0, MAX_TEXT)}… (${v.length} characters)`;
    else if (Array.isArray(v)) out[k] = (v as unknown[]).map((x) => (typeof x === 'string' && x.length > MAX_TEXT ? `${x.slice(0, MAX_TEXT)}…` : x));
    else out[k] = v;
  }
  return out;
}

/**
 * onResponse hook: every request that may change something (anything but GET and HEAD) under
 * /api/v1 and /console is recorded, refused ones included, with who, role, what, when, from where, the status
 * and the error code.
 */
export function auditHook(audit: AuditRepository, log: Logger) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD' || !(request.url.startsWith('/api/v1/') || request.url.startsWith('/console/'))) return;
    const params = (request.params ?? {}) as Record<string, string>;
    const target = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ') || null;
    try {
      await audit.record({
        actor: request.principal?.actor ?? (request.auditActor ?? 'anonymous'),
        role: request.principal?.role ?? 'none',
        action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        target, address: request.ip, status: reply.statusCode, code: request.errorCode ?? null,
        detail: { ...(auditedBody(request.body) ? { body: auditedBody(request.body) } : {}) },
      });
    } catch (err) {
      log.error({ err, url: request.url }, 'cannot write the audit log');
    }
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The error code the request was answered with (set by the error handler). */
    errorCode?: string;
    /** Who a request without a principal is recorded as (a login names its operator). */
    auditActor?: string;
  }
}
