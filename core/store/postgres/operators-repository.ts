import type { ApiToken, NewApiToken, Operator, OperatorRepository, OperatorRole } from '../ports/operators';
import { toOperator, toToken, type OperatorRow, type TokenRow } from '../operators-repository';
import type { PgPool } from './pool';

/** Operators and their bearer credentials (migration 010), in PostgreSQL. */
export class PostgresOperatorRepository implements OperatorRepository {
  constructor(private readonly db: PgPool) {}

  async listOperators(): Promise<Operator[]> {
    return (await this.db.rows<OperatorRow>('SELECT * FROM operators ORDER BY name')).map(toOperator);
  }

  async getOperator(name: string): Promise<Operator | undefined> {
    const row = await this.db.row<OperatorRow>('SELECT * FROM operators WHERE name = $1', [name]);
    return row && toOperator(row);
  }

  async insertOperator(o: { name: string; role: OperatorRole; passwordHash: string }, now = Date.now()): Promise<Operator> {
    const row = await this.db.row<OperatorRow>('INSERT INTO operators (name, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING *',
      [o.name, o.role, o.passwordHash, now]);
    return toOperator(row!);
  }

  async setPassword(name: string, passwordHash: string, now = Date.now()): Promise<void> {
    await this.db.run('UPDATE operators SET password_hash = $1, updated_at = $2 WHERE name = $3', [passwordHash, now, name]);
  }

  /** Removes the operator; its sessions go with it (ON DELETE CASCADE). */
  async removeOperator(name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM operators WHERE name = $1', [name])) > 0;
  }

  async insertToken(t: NewApiToken): Promise<ApiToken> {
    const row = await this.db.row<TokenRow>(`INSERT INTO api_tokens (id, kind, name, role, operator, hash, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`, [t.id, t.kind, t.name, t.role, t.operator, t.hash, t.createdAt, t.expiresAt]);
    return toToken(row!);
  }

  async getToken(id: string): Promise<ApiToken | undefined> {
    const row = await this.db.row<TokenRow>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return row && toToken(row);
  }

  /** An automation token by id or name (not sessions). */
  async findToken(idOrName: string): Promise<ApiToken | undefined> {
    const row = await this.db.row<TokenRow>(`SELECT * FROM api_tokens WHERE kind = 'token' AND (id = $1 OR name = $1) ORDER BY id = $1 DESC LIMIT 1`, [idOrName]);
    return row && toToken(row);
  }

  async byHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.db.row<TokenRow>('SELECT * FROM api_tokens WHERE hash = $1', [hash]);
    return row && toToken(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.db.rows<TokenRow>(`SELECT * FROM api_tokens WHERE kind = 'token' ORDER BY created_at, id`)).map(toToken);
  }

  async revokeToken(id: string, now = Date.now()): Promise<void> {
    await this.db.run('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id]);
  }

  async touchToken(id: string, now = Date.now()): Promise<void> {
    await this.db.run('UPDATE api_tokens SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  /** Sessions that ended (expired or logged out) serve no purpose: dropped so the table stays small. */
  async dropEndedSessions(now = Date.now()): Promise<void> {
    await this.db.run(`DELETE FROM api_tokens WHERE kind = 'session' AND (revoked_at IS NOT NULL OR expires_at < $1)`, [now]);
  }
}
