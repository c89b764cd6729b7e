import type { Database } from './database';
import type { ApiToken, NewApiToken, Operator, OperatorRepository, OperatorRole } from './ports/operators';

export interface TokenRow {
  id: string; kind: 'token' | 'session'; name: string; role: OperatorRole; operator: string | null; hash: string;
  created_at: number; expires_at: number | null; revoked_at: number | null; last_used_at: number | null;
}

export const toToken = (r: TokenRow): ApiToken => ({
  id: r.id, kind: r.kind, name: r.name, role: r.role, operator: r.operator, createdAt: r.created_at,
  expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
});

export interface OperatorRow { name: string; role: OperatorRole; password_hash: string; created_at: number; updated_at: number }
export const toOperator = (r: OperatorRow): Operator => ({
  name: r.name, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Operators and their bearer credentials (migration 010), in SQLite. */
export class SqliteOperatorRepository implements OperatorRepository {
  constructor(private readonly db: Database) {}

  async listOperators(): Promise<Operator[]> {
    return (this.db.prepare('SELECT * FROM operators ORDER BY name').all() as OperatorRow[]).map(toOperator);
  }

  async getOperator(name: string): Promise<Operator | undefined> {
    const row = this.db.prepare('SELECT * FROM operators WHERE name = ?').get(name) as OperatorRow | undefined;
    return row && toOperator(row);
  }

  async insertOperator(o: { name: string; role: OperatorRole; passwordHash: string }, now = Date.now()): Promise<Operator> {
    this.db.prepare('INSERT INTO operators (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(o.name, o.role, o.passwordHash, now, now);
    return (await this.getOperator(o.name))!;
  }

  async setPassword(name: string, passwordHash: string, now = Date.now()): Promise<void> {
    this.db.prepare('UPDATE operators SET password_hash = ?, updated_at = ? WHERE name = ?').run(passwordHash, now, name);
  }

  /** Removes the operator; its sessions go with it (ON DELETE CASCADE). */
  async removeOperator(name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM operators WHERE name = ?').run(name).changes > 0;
  }

  async insertToken(t: NewApiToken): Promise<ApiToken> {
    this.db.prepare(`INSERT INTO api_tokens (id, kind, name, role, operator, hash, created_at, expires_at)
      VALUES (@id, @kind, @name, @role, @operator, @hash, @createdAt, @expiresAt)`).run(t);
    return (await this.getToken(t.id))!;
  }

  async getToken(id: string): Promise<ApiToken | undefined> {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row && toToken(row);
  }

  /** An automation token by id or name (not sessions). */
  async findToken(idOrName: string): Promise<ApiToken | undefined> {
    const row = this.db.prepare(`SELECT * FROM api_tokens WHERE kind = 'token' AND (id = ? OR name = ?)`).get(idOrName, idOrName) as TokenRow | undefined;
    return row && toToken(row);
  }

  async byHash(hash: string): Promise<ApiToken | undefined> {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    return row && toToken(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    return (this.db.prepare(`SELECT * FROM api_tokens WHERE kind = 'token' ORDER BY created_at, id`).all() as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, now = Date.now()): Promise<void> {
    this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
  }

  async touchToken(id: string, now = Date.now()): Promise<void> {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  /** Sessions that ended (expired or logged out) serve no purpose: dropped so the table stays small. */
  async dropEndedSessions(now = Date.now()): Promise<void> {
    this.db.prepare(`DELETE FROM api_tokens WHERE kind = 'session' AND (revoked_at IS NOT NULL OR expires_at < ?)`).run(now);
  }
}
