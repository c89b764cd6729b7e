import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../core/config/load';
import { DataPaths } from '../../core/config/paths';
import { SqliteAccountRows } from '../../core/store/accounts-repository';
import { openDatabase, type Database } from '../../core/store/database';
import { TestServer } from '../helpers/server';
import { accountServiceOn } from '../helpers/accounts';
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

/** A data dir with no server running: the CLI and this process share the database (WAL). */
export class JobsFixture {
  readonly srv: TestServer;
  readonly paths: DataPaths;
  readonly db: Database;
  readonly accounts: SqliteAccountRows;
  readonly config;

  constructor(config: Record<string, unknown> = {}) {
    this.srv = new TestServer({ config: { log: { level: 'warn' }, ...config } });
    this.paths = new DataPaths(this.srv.dataDir);
    this.db = openDatabase(this.paths.database);
    this.accounts = new SqliteAccountRows(this.db);
    this.config = parseConfig({});
  }

  /** The AccountService of the CLI and the server, on this fixture's database. */
  accountService(): AccountService {
    return accountServiceOn(this.db, this.paths, this.config);
  }

  write(path: string, content: string | Buffer = 'x'): string {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  inTree(accountId: string, rel: string, content: string | Buffer = 'x'): string {
    return this.write(join(this.paths.accountRoot(accountId), rel), content);
  }

  tombstones(): Array<{ file_id: string | null; path: string; name: string; size: number | null; sha256: string | null; rule: string; state: string; deleted_at: number }> {
    return this.db.prepare('SELECT * FROM tombstones ORDER BY id').all() as never;
  }

  async cleanup(): Promise<void> {
    this.db.close();
    await this.srv.cleanup();
  }
}
