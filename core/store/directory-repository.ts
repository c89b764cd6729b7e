import type {
  ChangeKind, DirectoryDocument, DirectoryOp, DirectoryUser, Employee, Organization, WriteOptions,
} from '../plugin-api/directory';
import type { Database } from './database';
import { batchFailure } from './directory-batch';
import { SqliteDirectoryRows } from './directory-rows';
import type { DirectoryRepository } from './ports/directory';

type RowsMethod = (accountId: string, ...args: unknown[]) => unknown;

/**
 * The directory port (ports/directory.ts) on SQLite. Each method runs its statements at once
 * (SqliteDirectoryRows) and resolves: one microtask, a throw becomes a rejection, as on
 * PostgreSQL. `batch` is the unit of work: its operations run synchronously in one
 * better-sqlite3 transaction, so nothing else runs in between and no transaction waits on an
 * await; a 2,000-row sal batch costs one Promise, not one per row.
 */
export class SqliteDirectoryRepository implements DirectoryRepository {
  private readonly rows: SqliteDirectoryRows;

  /** `afterWrite`: called after each batch (the WAL checkpointer watches big writers through it). */
  constructor(db: Database, hooks: { afterWrite?: () => void } = {}) {
    this.rows = new SqliteDirectoryRows(db, hooks);
  }

  async batch(accountId: string, ops: readonly DirectoryOp[]): Promise<unknown[]> {
    if (ops.length === 0) return [];
    const rows = this.rows as unknown as Record<string, RowsMethod>;
    let at = 0;
    try {
      return this.rows.transaction(() => {
        const results = new Array<unknown>(ops.length);
        for (; at < ops.length; at++) {
          const { method, args } = ops[at];
          results[at] = rows[method].call(this.rows, accountId, ...(args ?? []) as unknown[]);
        }
        return results;
      });
    } catch (err) {
      // `at` past the end: the commit itself failed, not an operation.
      throw at < ops.length ? batchFailure(err, at, ops[at].method, ops.length) : err;
    }
  }

  async getOrganization(accountId: string, code: string): Promise<Organization | undefined> { return this.rows.getOrganization(accountId, code); }
  async listOrganizations(accountId: string): Promise<Organization[]> { return this.rows.listOrganizations(accountId); }
  async upsertOrganization(accountId: string, o: Organization, options?: WriteOptions): Promise<ChangeKind> { return this.rows.upsertOrganization(accountId, o, options); }

  async getEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<Employee | undefined> {
    return this.rows.getEmployee(accountId, organizationCode, registrationReference);
  }
  async findEmployees(accountId: string, by: { technicalId?: string; email?: string }): Promise<Employee[]> { return this.rows.findEmployees(accountId, by); }
  async listEmployees(accountId: string): Promise<Employee[]> { return this.rows.listEmployees(accountId); }
  async upsertEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<ChangeKind> { return this.rows.upsertEmployee(accountId, e, options); }
  async createEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<boolean> { return this.rows.createEmployee(accountId, e, options); }
  async updateEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<ChangeKind | undefined> { return this.rows.updateEmployee(accountId, e, options); }
  async removeEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<boolean> {
    return this.rows.removeEmployee(accountId, organizationCode, registrationReference);
  }
  async previousEmployee(accountId: string, organizationCode: string, registrationReference: string, sourceFile: string): Promise<Employee | undefined> {
    return this.rows.previousEmployee(accountId, organizationCode, registrationReference, sourceFile);
  }
  async forgetPrevious(accountId: string, sourceFile: string): Promise<number> { return this.rows.forgetPrevious(accountId, sourceFile); }

  async getUser(accountId: string, login: string): Promise<DirectoryUser | undefined> { return this.rows.getUser(accountId, login); }
  async listUsers(accountId: string): Promise<DirectoryUser[]> { return this.rows.listUsers(accountId); }
  async upsertUser(accountId: string, u: DirectoryUser, options?: WriteOptions): Promise<ChangeKind> { return this.rows.upsertUser(accountId, u, options); }

  async getDocument(accountId: string, externalReference: string): Promise<DirectoryDocument | undefined> { return this.rows.getDocument(accountId, externalReference); }
  async listDocuments(accountId: string): Promise<DirectoryDocument[]> { return this.rows.listDocuments(accountId); }
  async upsertDocument(accountId: string, d: DirectoryDocument, options?: WriteOptions): Promise<ChangeKind> { return this.rows.upsertDocument(accountId, d, options); }
}
