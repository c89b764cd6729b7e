import type {
  ChangeKind, DirectoryDocument, DirectoryOp, DirectoryUser, Employee, Organization, WriteOptions,
} from '../plugin-api/directory';
import type { Database } from './database';
import { CHUNK_ROWS } from './chunked-insert';
import { batchFailure } from './directory-batch';
import { SqliteDirectoryRows } from './directory-rows';
import type { DirectoryWriter } from './directory-writer';
import { createOps, rowCount } from './employee-rows';
import type { DirectoryRepository, EmployeeRows } from './ports/directory';

type RowsMethod = (accountId: string, ...args: unknown[]) => unknown;

/** Batches of new employees from this many rows go to the writer thread (fewer: its round trip would cost more than it saves). */
const WRITER_MIN_ROWS = 100;

/** Which operations of a unit of work create an employee (not a dry run), and their INSERT parameters appended to `into`. */
interface Creates { is(at: number): boolean; params(into: unknown[], at: number): void }

/**
 * The directory port (ports/directory.ts) on SQLite. Each method runs its statements at once
 * (SqliteDirectoryRows) and resolves: one microtask, a throw becomes a rejection, as on
 * PostgreSQL. `batch` is the unit of work: its operations run synchronously in one
 * better-sqlite3 transaction, so nothing else runs in between and no transaction waits on an
 * await; a 2,000-row sal batch costs one Promise, not one per row.
 */
export class SqliteDirectoryRepository implements DirectoryRepository {
  private readonly rows: SqliteDirectoryRows;
  private readonly writer?: DirectoryWriter;

  /**
   * `afterWrite`: called after each batch (the WAL checkpointer watches big writers through it).
   * `writer`: where a batch of new employees only (WRITER_MIN_ROWS or more) is inserted, off
   * this thread (the server's: directory-writer.ts); without it, every batch runs here.
   */
  constructor(db: Database, hooks: { afterWrite?: () => void; writer?: DirectoryWriter } = {}) {
    this.rows = new SqliteDirectoryRows(db, hooks);
    this.writer = hooks.writer;
  }

  async batch(accountId: string, ops: readonly DirectoryOp[]): Promise<unknown[]> {
    if (this.writer && ops.length >= WRITER_MIN_ROWS) {
      const written = await this.toWriter(this.writer, accountId, ops);
      if (written) return written;
    }
    const rows = this.rows as unknown as Record<string, RowsMethod>;
    const now = Date.now();
    const creates: Creates = {
      is: (at) => ops[at].method === 'createEmployee' && !ops[at].args?.[1]?.dryRun,
      params: (into, at) => {
        const [employee, options = {}] = ops[at].args as [Employee, WriteOptions?];
        this.rows.employeeParams(into, accountId, employee, options, now);
      },
    };
    return this.unitOfWork(ops.length, (at) => ops[at].method, creates, (at) => rows[ops[at].method].call(this.rows, accountId, ...(ops[at].args ?? []) as unknown[]));
  }

  /**
   * A batch that is a run of createEmployee only, sharing one options object (not a dry run), on
   * the writer thread: its INSERT parameters built here, in chunks of CHUNK_ROWS rows, as
   * unitOfWork builds them; undefined when it goes this thread's way (another kind of batch, or
   * an attribute shape whose id holds another key list, which this thread's way stores as plain JSON).
   */
  private async toWriter(writer: DirectoryWriter, accountId: string, ops: readonly DirectoryOp[]): Promise<boolean[] | undefined> {
    const options = ops[0].args?.[1] as WriteOptions | undefined;
    if (options?.dryRun) return undefined;
    for (const op of ops) if (op.method !== 'createEmployee' || op.args?.[1] !== options) return undefined;
    const now = Date.now();
    const needed = new Map<string, string>();
    const chunks: unknown[][] = [];
    let chunk: unknown[] = [];
    for (let at = 0; at < ops.length; at++) {
      if (at % CHUNK_ROWS === 0) chunks.push(chunk = []);
      try {
        this.rows.employeeParamsDeferred(chunk, accountId, ops[at].args[0] as Employee, options ?? {}, now, needed);
      } catch (err) {
        throw batchFailure(err, at, 'createEmployee', ops.length);
      }
    }
    try {
      const results = await writer.write({ shapes: [...needed], chunks, count: ops.length });
      this.rows.shapesStored(needed);
      return results;
    } catch (err) {
      if ((err as { details?: { shapeCollision?: string } }).details?.shapeCollision) return undefined;
      throw err;
    }
  }

  /** createEmployee of each row, bound from the flat values; a dry run as the batch it stands for. */
  async createEmployeeRows(accountId: string, rows: EmployeeRows, options: WriteOptions = {}): Promise<boolean[]> {
    if (options.dryRun) return this.batch(accountId, createOps(rows, options)) as Promise<boolean[]>;
    const now = Date.now();
    const creates: Creates = { is: () => true, params: (into, r) => this.rows.employeeRowParams(into, accountId, rows, r, options, now) };
    return this.unitOfWork<boolean>(rowCount(rows), () => 'createEmployee', creates);
  }

  /**
   * `count` operations in one transaction, their results in order; an error names the operation
   * (batchFailure). Runs of `creates` go to the INSERT CHUNK_ROWS rows at a time (an error
   * there names the chunk's first operation), the other operations one by one through `run`
   * (absent: every operation is a create).
   */
  private unitOfWork<T>(count: number, method: (at: number) => string, creates: Creates, run?: (at: number) => T): T[] {
    if (count === 0) return [];
    let at = 0;
    try {
      return this.rows.transaction(() => {
        const results = new Array<T>(count);
        const params: unknown[] = [];
        while (at < count) {
          const first = at;
          for (; at < count && at - first < CHUNK_ROWS && creates.is(at); at++) creates.params(params, at);
          if (at === first) {
            results[at] = run!(at);
            at++;
            continue;
          }
          const end = at;
          at = first;
          this.rows.insertEmployees(params, end - first, results, first);
          params.length = 0;
          at = end;
        }
        return results;
      });
    } catch (err) {
      // `at` past the end: the commit itself failed, not an operation.
      throw at < count ? batchFailure(err, at, method(at), count) : err;
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
