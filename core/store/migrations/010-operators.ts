import type { Migration } from './types';

/**
 * The operator plane (core/operators, core/http):
 * - `operators`: people who use the API or the console, with a role and an scrypt password hash.
 * - `api_tokens`: bearer tokens for automation (`fluxgate token create`) and login sessions
 *   (POST /api/v1/login); only the SHA-256 of a token is kept. A session takes the role of its
 *   operator at each request, so removing an operator ends its sessions.
 * - `audit_log`: every change made through the API (who, role, what, when, from where, outcome).
 */
export const operatorsMigration: Migration = {
  version: 10,
  name: 'operators',
  sql: `
    CREATE TABLE operators (
      name TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('token', 'session')),
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
      operator TEXT REFERENCES operators(name) ON DELETE CASCADE,
      hash TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      expires_at INTEGER,
      revoked_at INTEGER,
      last_used_at INTEGER
    );
    CREATE UNIQUE INDEX api_tokens_name ON api_tokens (name) WHERE kind = 'token';
    CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      actor TEXT NOT NULL,
      role TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      address TEXT,
      status INTEGER,
      code TEXT,
      detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_at ON audit_log (at);
  `,
};
