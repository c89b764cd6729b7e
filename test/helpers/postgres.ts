import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.mjs';

/**
 * A fresh, empty PostgreSQL database per test. The server: FLUXGATE_TEST_POSTGRES_URL when set
 * (a superuser's, or a role with CREATEDB), else the private cluster `npm test` starts for the
 * run (test/run.mjs sets that variable for the test files), else, for a test file run on its
 * own, a private cluster this process starts and stops at its exit. Tests declare
 * `{ skip: skipUnless('postgres') }` (test/helpers/tools.ts): under CI=true a missing PostgreSQL
 * fails them.
 */
export const POSTGRES_URL_ENV = 'FLUXGATE_TEST_POSTGRES_URL';

let own: Promise<PostgresCluster> | undefined;

async function serverUrl(): Promise<string> {
  const given = process.env[POSTGRES_URL_ENV];
  if (given) return given;
  if (process.env.FLUXGATE_TEST_POSTGRES_UNAVAILABLE) throw new Error(process.env.FLUXGATE_TEST_POSTGRES_UNAVAILABLE);
  own ??= startPostgresCluster().then((cluster) => {
    process.once('exit', () => cluster.stop());
    return cluster;
  });
  return (await own).url;
}

export interface TestDatabase {
  /** postgres://user:password@127.0.0.1:port/<name> */
  url: string;
  name: string;
  /** The server's URL with another database name (e.g. one that does not exist). */
  urlOf(database: string): string;
  /** Runs one query on a connection of its own; resolves to the rows. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const server = await serverUrl();
  const name = `fg_test_${randomBytes(6).toString('hex')}`;
  const withDatabase = (database: string): string => { const u = new URL(server); u.pathname = `/${database}`; return u.toString(); };
  await withClient(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(name);
  return {
    url, name, urlOf: withDatabase,
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => withClient(url, async (c) => (await c.query<T>(sql, params)).rows),
    drop: async () => { await withClient(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)); },
  };
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
