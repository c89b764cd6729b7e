import pg, { type PoolClient, type QueryResultRow } from 'pg';
import { DEFAULT_STORE_POOL_SIZE } from '../../config/store-pool';
import { redactStoreUrl } from '../../config/store-url';
import { FluxgateError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { connectionError } from './connect';

/** A statement running longer than this is cancelled (a lock waited on forever, a runaway query). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** How often a unit of work is run again after a serialization failure or a deadlock. */
const RETRIES = 5;

export interface PoolOptions {
  /** Most connections open at once (default store.poolSize's, DEFAULT_STORE_POOL_SIZE): the SFTP re-checks, the engine and the HTTP plane share them. */
  size?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** OID of int8 (BIGINT): node-postgres gives text by default; the schema's are ids and epoch ms, exact as numbers. */
const INT8_OID = 20;
const defaultParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : defaultParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The store's connections to PostgreSQL. Its own type parsers (BIGINT as a number) apply to
 * this pool only, not to other users of node-postgres in the process.
 */
export class PgPool {
  readonly pool: pg.Pool;

  constructor(readonly url: string, options: PoolOptions = {}, readonly logger?: Logger) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.size ?? DEFAULT_STORE_POOL_SIZE,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMillis: 10_000,
      application_name: options.applicationName ?? 'fluxgate',
      types,
    });
    // An idle client whose server goes away emits 'error' on the pool: without a listener it would crash the process.
    this.pool.on('error', (err) => { logger?.warn({ err, code: 'FG_STORE_UNREACHABLE' }, 'an idle PostgreSQL connection of the store failed; the pool opens another when needed'); });
  }

  /** One statement on any connection of the pool; the rows it returns. */
  async rows<T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.query<T>(sql, params)).rows;
  }

  /** The first row, or undefined. */
  async row<T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.query<T>(sql, params)).rows[0];
  }

  /** How many rows the statement changed. */
  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  async query<T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<T>> {
    try {
      return await this.pool.query<T>(sql, params);
    } catch (err) {
      throw this.storeError(err);
    }
  }

  /** A connection of the pool, for work that must stay on one (a unit of work, a session lock). */
  async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw connectionError(err, this.url);
    }
  }

  /** A unit of work on this pool (withTransaction). */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTransaction(this, fn);
  }

  async end(): Promise<void> {
    await this.pool.end();
  }

  /** A FluxgateError stays as it is; a lost connection and a timeout say so; other errors keep their SQLSTATE. */
  storeError(err: unknown): unknown {
    if (err instanceof FluxgateError) return err;
    const code = (err as { code?: string }).code ?? '';
    if (code === '57014') {
      return new FluxgateError('FG_STORE', `a PostgreSQL statement ran longer than the store's statement timeout and was cancelled: ${(err as Error).message}`,
        { cause: code }, { cause: err });
    }
    // 42P01 undefined_table, 42703 undefined_column: a database nobody migrated, or migrated by an older fluxgate.
    if (code === '42P01' || code === '42703') {
      return new FluxgateError('FG_STORE_NOT_MIGRATED', `the PostgreSQL store at ${redactStoreUrl(this.url)} does not have this fluxgate's schema (${(err as Error).message}): run \`fluxgate store migrate\` (serve migrates at start)`,
        { url: redactStoreUrl(this.url), cause: code }, { cause: err });
    }
    // 22021 character_not_in_repertoire, 22P05 untranslatable_character: a text PostgreSQL's
    // UTF-8 cannot hold (NUL, which both stores refuse first: checkColumn in directory-tables.ts): the value's fault, not the store's.
    if (code === '22021' || code === '22P05') {
      return new FluxgateError('FG_STORE_VALUE', `PostgreSQL cannot store a value: ${(err as Error).message} (a text with a NUL character?)`,
        { cause: code }, { cause: err });
    }
    // 08xxx: connection exceptions; 57P0x: the server is shutting down or restarting.
    if (/^(08|57P0)/.test(code) || LOST.has(code) || /Connection terminated/i.test((err as Error).message ?? '')) return connectionError(err, this.url);
    return err;
  }
}

const LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/**
 * A unit of work: `fn` runs between BEGIN and COMMIT on one connection of the pool, ROLLBACK
 * when it throws. Run again (from BEGIN) after a serialization failure or a deadlock, which
 * PostgreSQL reports so that the transaction be retried: `fn` must only touch the database.
 */
export async function withTransaction<T>(pool: PgPool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(new Tx(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => { broken = true; });
      if (attempt < RETRIES && isRetryable(err)) continue;
      throw pool.storeError(err);
    } finally {
      client.release(broken);
    }
  }
}

/** 40001 serialization_failure, 40P01 deadlock_detected: the unit of work is run again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === '40001' || code === '40P01';
}

/** The statements of one unit of work, on its connection. */
export class Tx {
  constructor(readonly client: PoolClient) {}

  async rows<T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, params)).rows;
  }

  async row<T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.client.query<T>(sql, params)).rows[0];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.client.query(sql, params)).rowCount ?? 0;
  }
}

/** What runs statements: the pool (each on any connection) or a unit of work's connection. */
export type Queryable = Pick<Tx, 'rows' | 'row' | 'run'>;
