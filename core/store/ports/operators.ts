export type OperatorRole = 'admin' | 'viewer';
export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'viewer'];

export interface Operator {
  name: string;
  role: OperatorRole;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

/** A bearer credential: an automation token, or the session a login opened. Only its SHA-256 is stored. */
export interface ApiToken {
  id: string;
  kind: 'token' | 'session';
  name: string;
  role: OperatorRole;
  /** Sessions: the operator who logged in (its current role applies). */
  operator: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export type NewApiToken = Omit<ApiToken, 'revokedAt' | 'lastUsedAt'> & { hash: string };

/** Operators and their bearer credentials (migration 010). */
export interface OperatorRepository {
  listOperators(): Promise<Operator[]>;
  getOperator(name: string): Promise<Operator | undefined>;
  insertOperator(o: { name: string; role: OperatorRole; passwordHash: string }, now?: number): Promise<Operator>;
  setPassword(name: string, passwordHash: string, now?: number): Promise<void>;
  /** Removes the operator and its sessions. */
  removeOperator(name: string): Promise<boolean>;
  insertToken(t: NewApiToken): Promise<ApiToken>;
  getToken(id: string): Promise<ApiToken | undefined>;
  /** An automation token by id or name (not sessions). */
  findToken(idOrName: string): Promise<ApiToken | undefined>;
  byHash(hash: string): Promise<ApiToken | undefined>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, now?: number): Promise<void>;
  touchToken(id: string, now?: number): Promise<void>;
  /** Sessions that ended (expired or logged out) serve no purpose: dropped so the table stays small. */
  dropEndedSessions(now?: number): Promise<void>;
}
