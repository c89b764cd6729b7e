import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../core/config/load';
import { DataPaths } from '../../core/config/paths';
import { SqliteAccountRows } from '../../core/store/accounts-repository';
import { openDatabase, type Database } from '../../core/store/database';
import { TestServer } from '../helpers/server';
import { accountServiceFor } from '../helpers/accounts';
import { TEST_STORE, type TestStore } from '../helpers/test-store';
import type { Account, AccountKey } from '../../core/store/ports/accounts';
import type { AccountService } from '../../core/accounts/account-service';

export const DAY = 24 * 3600_000;

/** `fluxgate jobs run … --json` on the server's data dir, parsed. */
export interface RunJson {
  job: string;
  runId: number | null;
  asOf: string;
  dryRun: boolean;
  outcome: string;
  counts: Record<string, number>;
  actions: Array<{ action: string; target: string; rule?: string; account?: string }>;
  errors: Array<{ target: string; code: string; message: string }>;
}

export async function runJob(srv: TestServer, job: string, ...args: string[]): Promise<RunJson & { stderr: string; code: number | null }> {
  const r = await srv.cli('jobs', 'run', job, '--json', ...args);
  if (r.code !== 0 && r.code !== 1) throw new Error(`jobs run ${job} exited ${r.code}: ${r.stderr}`);
  try {
    return { ...(JSON.parse(r.stdout) as RunJson), stderr: r.stderr, code: r.code };
  } catch {
    throw new Error(`jobs run ${job}: not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

export const isoAt = (t: number): string => new Date(t).toISOString();

/**
 * A data dir with no server running: the CLI and this process share its store, whichever engine
 * the run tests (test/helpers/test-store.ts). `store()`, `query()`, `account()` and
 * `accountService()` work on both; `db` and `accounts` are the SQLite file's, synchronously, for
 * the tests that run on SQLite only.
 */
export class JobsFixture {
  readonly srv: TestServer;
  readonly paths: DataPaths;
  readonly config;
  private sqlite?: Database;
  private sqliteAccounts?: SqliteAccountRows;

  constructor(config: Record<string, unknown> = {}) {
    this.srv = new TestServer({ config: { log: { level: 'warn' }, ...config } });
    this.paths = new DataPaths(this.srv.dataDir);
    this.config = parseConfig({});
  }

  /** The SQLite file (synchronous reads and writes), for suites that run on SQLite only: it throws on PostgreSQL. */
  get db(): Database {
    if (TEST_STORE !== 'sqlite') throw new Error('JobsFixture.db is the SQLite file: a test of the PostgreSQL pass reads and writes through store() or query()');
    this.sqlite ??= openDatabase(this.paths.database);
    return this.sqlite;
  }

  /** The SQLite file's account rows, synchronously (SQLite only, as `db`). */
  get accounts(): SqliteAccountRows {
    this.sqliteAccounts ??= new SqliteAccountRows(this.db);
    return this.sqliteAccounts;
  }

  /** The fixture's store through its interfaces (either engine). */
  store(): Promise<TestStore> { return this.srv.store(); }

  /** Raw SQL on the store (either engine, `?` placeholders: TestStore.query). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> { return this.srv.query<T>(sql, ...params); }

  async account(id: string): Promise<Account | undefined> { return (await this.store()).store.accounts.get(id); }

  async keys(accountId: string): Promise<AccountKey[]> { return (await this.store()).store.accounts.keys(accountId); }

  /** The AccountService of the CLI and the server, on this fixture's store. */
  async accountService(): Promise<AccountService> {
    return accountServiceFor((await this.store()).store, this.paths, this.config);
  }

  write(path: string, content: string | Buffer = 'x'): string {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  inTree(accountId: string, rel: string, content: string | Buffer = 'x'): string {
    return this.write(join(this.paths.accountRoot(accountId), rel), content);
  }

  tombstones(): Promise<Array<{ file_id: string | null; path: string; name: string; size: number | null; sha256: string | null; rule: string; state: string; deleted_at: number }>> {
    return this.query('SELECT * FROM tombstones ORDER BY id');
  }

  async cleanup(): Promise<void> {
    this.sqlite?.close();
    await this.srv.cleanup();
  }
}
