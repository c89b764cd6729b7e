import type { FastifyReply, FastifyRequest } from 'fastify';
import { FluxgateError } from '../errors';
import type { OperatorService, Principal } from '../operators/operator-service';
import { BruteForceGuard, type BruteForceConfig } from '../sftp/brute-force';

/** Who may call a route: anyone, any valid credential, or an admin's. */
export type Access = 'public' | 'viewer' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig { access?: Access }
  interface FastifyRequest {
    principal?: Principal;
    /** How the credential came: a bearer header (CSRF-free) or the console's session cookie (CSRF-checked). */
    authVia?: 'bearer' | 'cookie';
  }
}

/** The console's session cookie: holds a session token (as POST /api/v1/login gives), HttpOnly, SameSite=Strict. */
export const SESSION_COOKIE = 'fg_session';

/**
 * Failed logins and unknown tokens, counted per address (and per operator name for logins):
 * past the limit, every request from that address (or login to that name) is refused with 429
 * until the ban ends. The same guard as the SFTP server's, with its own counts.
 */
export class LoginLimiter {
  private readonly byAddress: BruteForceGuard;
  private readonly byName: BruteForceGuard;

  constructor(config: BruteForceConfig) {
    this.byAddress = new BruteForceGuard(config);
    this.byName = new BruteForceGuard(config);
  }

  assertAllowed(address: string, name?: string): void {
    const until = this.byAddress.bannedUntil(address) ?? (name === undefined ? undefined : this.byName.bannedUntil(`name:${name}`));
    if (until !== undefined) {
      throw new FluxgateError('FG_RATE_LIMITED', `too many failed logins or bad tokens: retry after ${new Date(until).toISOString()}`);
    }
  }

  fail(address: string, name?: string): void {
    this.byAddress.fail(address, name ?? '');
    if (name !== undefined) this.byName.fail(`name:${name}`);
  }

  succeed(address: string, name: string): void {
    this.byAddress.succeed(address, name);
  }
}

/** The access a route needs: its `config.access`, else reads need a viewer and changes an admin. */
export function accessOf(request: FastifyRequest): Access {
  return request.routeOptions.config.access ?? (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'admin');
}

export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * onRequest hook: resolves the bearer token (or the console's session cookie) to a principal and enforces the route's access.
 * A missing or bad token is 401, a viewer asking for a change 403; a bad token also counts
 * as a failure of its address (token guessing is login guessing).
 */
export function authHook(operators: OperatorService, limiter: LoginLimiter, publicAccess: (request: FastifyRequest) => boolean) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    // Public routes ignore credentials: a probe with a stale token still answers.
    if (publicAccess(request)) return;
    const access = accessOf(request);
    const bearer = bearerOf(request);
    const cookie = bearer === undefined ? request.cookies?.[SESSION_COOKIE] || undefined : undefined;
    const token = bearer ?? cookie;
    limiter.assertAllowed(request.ip);
    if (token === undefined) {
      throw new FluxgateError('FG_UNAUTHENTICATED', 'this route needs a token: send "Authorization: Bearer <token>" (fluxgate token create, or POST /api/v1/login)');
    }
    const principal = await operators.authenticate(token);
    if (!principal) {
      limiter.fail(request.ip);
      throw new FluxgateError('FG_UNAUTHENTICATED', 'the token is unknown, expired or revoked');
    }
    request.principal = principal;
    request.authVia = bearer === undefined ? 'cookie' : 'bearer';
    if (access === 'admin' && principal.role !== 'admin') {
      throw new FluxgateError('FG_FORBIDDEN', `${principal.actor} has the viewer role: ${request.method} ${request.routeOptions.url ?? request.url} needs an admin`);
    }
  };
}
