import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hashPassword, verifyPassword } from '../accounts/password';
import { FluxgateError } from '../errors';
import { OPERATOR_ROLES, type ApiToken, type Operator, type OperatorRepository, type OperatorRole } from '../store/ports/operators';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Printed tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'fgt_';
const MIN_PASSWORD = 12;
const DAY_MS = 86_400_000;

/** Who made a request: what the API authorizes and the audit log records. */
export interface Principal {
  /** `token:<name>` or `operator:<name>`. */
  actor: string;
  role: OperatorRole;
  tokenId: string;
}

export function assertOperatorName(name: string, what = 'operator'): void {
  if (!NAME_PATTERN.test(name)) {
    throw new FluxgateError('FG_OPERATOR_NAME', `"${name}" is not a valid ${what} name: use 1-64 letters, digits, ".", "_", "@" and "-", starting with a letter or digit`);
  }
}

export function assertRole(role: string): asserts role is OperatorRole {
  if (!(OPERATOR_ROLES as readonly string[]).includes(role)) throw new FluxgateError('FG_USAGE', `unknown role "${role}": use admin or viewer`);
}

function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new FluxgateError('FG_PASSWORD_WEAK', `operator passwords must be at least ${MIN_PASSWORD} characters`);
}

const sha256 = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What lists print of a token: never its hash. */
export function tokenView(t: ApiToken, now = Date.now()): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const status = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
  return { id: t.id, name: t.name, role: t.role, status, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), revokedAt: iso(t.revokedAt), lastUsedAt: iso(t.lastUsedAt) };
}

/** What lists print of an operator: never its password hash. */
export function operatorView(o: Operator): Record<string, unknown> {
  return { name: o.name, role: o.role, createdAt: new Date(o.createdAt).toISOString(), updatedAt: new Date(o.updatedAt).toISOString() };
}

/**
 * Operators (people, with a password, for logins) and tokens (for automation): the CLI's
 * `admin` and `token` commands and the API's authentication both go through here.
 * Tokens are 32 random bytes shown once; only their SHA-256 is stored (a token has full
 * entropy: a slow hash would add nothing but latency to every request).
 */
export class OperatorService {
  constructor(readonly repo: OperatorRepository) {}

  list(): Promise<Operator[]> { return this.repo.listOperators(); }

  async get(name: string): Promise<Operator> {
    const found = await this.repo.getOperator(name);
    if (!found) throw new FluxgateError('FG_OPERATOR_NOT_FOUND', `no operator "${name}" (see: fluxgate admin list)`, { name });
    return found;
  }

  async add(name: string, role: string, password: string): Promise<Operator> {
    assertOperatorName(name);
    assertRole(role);
    assertPassword(password);
    if (await this.repo.getOperator(name)) throw new FluxgateError('FG_OPERATOR_EXISTS', `operator "${name}" already exists (change its password with: fluxgate admin password ${name})`, { name });
    return this.repo.insertOperator({ name, role, passwordHash: await hashPassword(password) });
  }

  async setPassword(name: string, password: string): Promise<Operator> {
    await this.get(name);
    assertPassword(password);
    await this.repo.setPassword(name, await hashPassword(password));
    return this.get(name);
  }

  async remove(name: string): Promise<Operator> {
    const found = await this.get(name);
    await this.repo.removeOperator(name);
    return found;
  }

  /** Creates a token; the returned `token` is the only time its text exists outside the caller. */
  async createToken(name: string, role: string, expiresDays?: number, now = Date.now()): Promise<{ token: string; record: ApiToken }> {
    assertOperatorName(name, 'token');
    assertRole(role);
    if (expiresDays !== undefined && (!Number.isInteger(expiresDays) || expiresDays < 1)) {
      throw new FluxgateError('FG_USAGE', `--expires-days must be a whole number of days, 1 or more (got ${expiresDays})`);
    }
    if (await this.repo.findToken(name)) throw new FluxgateError('FG_TOKEN_EXISTS', `a token named "${name}" already exists (revoke it first: fluxgate token revoke ${name})`, { name });
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = await this.repo.insertToken({
      id: `tok_${randomUUID().replace(/-/g, '').slice(0, 12)}`, kind: 'token', name, role, operator: null, hash: sha256(token),
      createdAt: now, expiresAt: expiresDays === undefined ? null : now + expiresDays * DAY_MS,
    });
    return { token, record };
  }

  tokens(): Promise<ApiToken[]> { return this.repo.listTokens(); }

  async revokeToken(idOrName: string, now = Date.now()): Promise<ApiToken> {
    const found = await this.repo.findToken(idOrName);
    if (!found) throw new FluxgateError('FG_TOKEN_NOT_FOUND', `no token with id or name "${idOrName}" (see: fluxgate token list)`, { token: idOrName });
    await this.repo.revokeToken(found.id, now);
    return (await this.repo.getToken(found.id))!;
  }

  /** The principal a bearer token stands for, or undefined when it is unknown, revoked or expired. */
  async authenticate(token: string, now = Date.now()): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const found = await this.repo.byHash(sha256(token));
    if (!found || found.revokedAt !== null || (found.expiresAt !== null && found.expiresAt <= now)) return undefined;
    let role = found.role;
    if (found.kind === 'session') {
      const operator = found.operator === null ? undefined : await this.repo.getOperator(found.operator);
      if (!operator) return undefined;
      role = operator.role;
    }
    // At most once a minute: a busy script must not write on every request.
    if (found.lastUsedAt === null || now - found.lastUsedAt > 60_000) await this.repo.touchToken(found.id, now);
    return { actor: found.kind === 'session' ? `operator:${found.operator}` : `token:${found.name}`, role, tokenId: found.id };
  }

  /** Checks an operator's password and opens a session; undefined when the name or password is wrong. */
  async login(name: string, password: string, minutes: number, now = Date.now()): Promise<{ token: string; operator: Operator; expiresAt: number } | undefined> {
    const operator = await this.repo.getOperator(name);
    // Same work whether the name exists or not: the answer time does not tell names apart.
    const ok = await verifyPassword(password, operator?.passwordHash ?? DUMMY_HASH);
    if (!operator || !ok) return undefined;
    await this.repo.dropEndedSessions(now);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + minutes * 60_000;
    await this.repo.insertToken({
      id: `ses_${randomUUID().replace(/-/g, '').slice(0, 12)}`, kind: 'session', name: `session of ${name}`, role: operator.role,
      operator: name, hash: sha256(token), createdAt: now, expiresAt,
    });
    return { token, operator, expiresAt };
  }

  /** Ends the session (or revokes the token) the request was made with. */
  async logout(principal: Principal, now = Date.now()): Promise<void> {
    await this.repo.revokeToken(principal.tokenId, now);
  }
}

/** scrypt of a random password: verified against when the name is unknown. */
const DUMMY_HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
