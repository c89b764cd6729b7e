import type {
  ChangeKind, DirectoryDocument, DirectoryOp, DirectoryUser, Employee, Organization, WriteOptions,
} from '../../plugin-api/directory';
import { batchFailure } from '../directory-batch';
import { DOCUMENTS, ORGANIZATIONS, USERS, employees, type Row, type TableSpec } from '../directory-tables';
import { createOps } from '../employee-rows';
import type { DirectoryRepository, EmployeeRows } from '../ports/directory';
import { PgAttributeShapes, ShapeWork } from './directory-shapes';
import { PgEntityTable, type DirectoryWork } from './directory-tables';
import { isRetryable, type PgPool } from './pool';

/** One unit of work's state; see DirectoryWork. */
class Work extends ShapeWork implements DirectoryWork {
  private readonly attempts = new Map<string, { since: number; attempt: number } | null>();
  employeeSpec?: TableSpec<Employee>;

  async byEarlierAttempt(fileId: string, writtenAt: number): Promise<boolean> {
    let times = this.attempts.get(fileId);
    if (times === undefined) {
      // As SQLite's: the last `attempt` event, and the last time the file was finished or replayed.
      const row = await this.q.row<{ attempt: number | null; since: number | null }>(`SELECT
        (SELECT at FROM file_events WHERE file_id = $1 AND type = 'attempt' ORDER BY id DESC LIMIT 1) AS attempt,
        (SELECT at FROM file_events WHERE file_id = $1 AND type IN ('processed', 'rejected', 'dead', 'replay') ORDER BY id DESC LIMIT 1) AS since`, [fileId]);
      times = row!.attempt === null ? null : { attempt: row!.attempt, since: row!.since ?? 0 };
      this.attempts.set(fileId, times);
    }
    return times !== null && writtenAt < times.attempt && writtenAt > times.since;
  }
}

type Method = (work: Work, accountId: string, ...args: unknown[]) => Promise<unknown>;

/**
 * The directory port (ports/directory.ts) on PostgreSQL, with the SQLite class's semantics
 * (core/store/directory-repository.ts): the same specs and decisions (PgEntityTable), every
 * statement filtered by the account id. Each write is a transaction of its own (a write may be
 * several statements: shapes, the kept version, the row); reads run on the pool. `batch` is one
 * transaction (withTransaction), all or none; its runs of consecutive createEmployee or
 * updateEmployee calls (a sal file's rows) become multi-row statements rather than round trips per row.
 */
export class PostgresDirectoryRepository implements DirectoryRepository {
  private readonly shapes = new PgAttributeShapes();
  private readonly organizations = new PgEntityTable(() => ORGANIZATIONS, ORGANIZATIONS);
  private readonly employees: PgEntityTable<Employee>;
  private readonly users = new PgEntityTable(() => USERS, USERS);
  private readonly documents = new PgEntityTable(() => DOCUMENTS, DOCUMENTS);

  /** `afterWrite`: called after each batch, as SQLite's (nothing on PostgreSQL needs it yet). */
  constructor(private readonly pool: PgPool, private readonly hooks: { afterWrite?: () => void } = {}) {
    const specOf = (work: DirectoryWork): TableSpec<Employee> => {
      const w = work as Work;
      w.employeeSpec ??= employees({ encode: (attributes) => this.shapes.encode(attributes, w), decode: (data) => this.shapes.decode(data) });
      return w.employeeSpec;
    };
    this.employees = new PgEntityTable(specOf, specOf(new Work(pool)), this.shapes, true);
  }

  async batch(accountId: string, ops: readonly DirectoryOp[]): Promise<unknown[]> {
    if (ops.length === 0) return [];
    const alone = await this.createAlone(accountId, ops);
    if (alone) {
      this.hooks.afterWrite?.();
      return alone;
    }
    const results = await this.write(async (work) => {
      const answers = new Array<unknown>(ops.length);
      for (let at = 0; at < ops.length;) {
        const run = this.runOf(ops, at);
        try {
          if (run > 1) {
            const employees = ops.slice(at, at + run).map((op) => op.args[0] as Employee);
            const options = ops[at].args[1] as WriteOptions | undefined;
            const answered = ops[at].method === 'createEmployee' ? await this.employees.createMany(work, accountId, employees, options)
              : await this.employees.updateMany(work, accountId, employees, options);
            answered.forEach((a, i) => { answers[at + i] = a; });
            at += run;
            continue;
          }
          const { method, args } = ops[at];
          answers[at] = await this.methods[method](work, accountId, ...(args ?? []) as unknown[]);
          at++;
        } catch (err) {
          // In a multi-row insert nothing tells which row failed: the run's first names it.
          throw batchFailure(this.pool.storeError(err), at, ops[at].method, ops.length);
        }
      }
      return answers;
    });
    this.hooks.afterWrite?.();
    return results;
  }

  /**
   * A batch that is one run of createEmployee (a sal file's batch of new employees) as one COPY
   * outside a transaction (PgEntityTable.createAlone); undefined when it must go the transaction's
   * way (then nothing was written). A deadlock or serialization failure goes that way too: its
   * unit of work retries them.
   */
  private async createAlone(accountId: string, ops: readonly DirectoryOp[]): Promise<boolean[] | undefined> {
    const options = ops[0].args[1] as WriteOptions | undefined;
    if (ops[0].method !== 'createEmployee' || options?.dryRun || this.runOf(ops, 0) !== ops.length) return undefined;
    const client = await this.pool.connect();
    let failed: unknown;
    try {
      return await this.employees.createAlone(new Work(this.pool), client, accountId, ops.map((op) => op.args[0] as Employee), options);
    } catch (err) {
      if (isRetryable(err)) return undefined;
      failed = err;
      throw batchFailure(this.pool.storeError(err), 0, 'createEmployee', ops.length);
    } finally {
      // A connection whose statement failed otherwise than on a key is not trusted again.
      client.release(failed instanceof Error ? failed : undefined);
    }
  }

  /** The rows as the createEmployee operations they stand for, through `batch` (its multi-row inserts). */
  createEmployeeRows(accountId: string, rows: EmployeeRows, options?: WriteOptions): Promise<boolean[]> {
    return this.batch(accountId, createOps(rows, options)) as Promise<boolean[]>;
  }

  /**
   * How many ops from `at` one multi-row statement can answer: consecutive createEmployee
   * writes sharing one options object (not a dry run), or consecutive updateEmployee calls
   * sharing one options object whose keys all differ (a key updated twice must see its first update).
   */
  private runOf(ops: readonly DirectoryOp[], at: number): number {
    const { method, args } = ops[at];
    if (method !== 'createEmployee' && method !== 'updateEmployee') return 1;
    const options = args[1];
    if (method === 'createEmployee' && options?.dryRun) return 1;
    const keys = new Set<string>();
    let n = 0;
    for (; at + n < ops.length && ops[at + n].method === method && ops[at + n].args[1] === options; n++) {
      if (method !== 'updateEmployee') continue;
      const e = ops[at + n].args[0] as Employee;
      const key = `${e.organizationCode}\u0000${e.registrationReference}`;
      if (keys.has(key)) break;
      keys.add(key);
    }
    return Math.max(n, 1);
  }

  /** The port's methods on a unit of work, by name (what `batch` dispatches to). */
  private readonly methods: { [K in DirectoryOp['method']]: Method } = {
    getOrganization: (w, a, code) => this.organizations.get(w, a, [code]),
    listOrganizations: (w, a) => this.organizations.list(w, a),
    upsertOrganization: (w, a, o, options) => this.organizations.upsert(w, a, o as Organization, options as WriteOptions),
    getEmployee: (w, a, org, ref) => this.employees.get(w, a, [org, ref]),
    findEmployees: (w, a, by) => this.find(w, a, by as { technicalId?: string; email?: string }),
    listEmployees: (w, a) => this.employees.list(w, a),
    upsertEmployee: (w, a, e, options) => this.employees.upsert(w, a, e as Employee, options as WriteOptions),
    createEmployee: (w, a, e, options) => this.employees.create(w, a, e as Employee, options as WriteOptions),
    updateEmployee: (w, a, e, options) => this.employees.update(w, a, e as Employee, options as WriteOptions),
    removeEmployee: (w, a, org, ref) => this.employees.remove(w, a, [org, ref]),
    previousEmployee: async (w, a, org, ref, file) => {
      const json = await w.q.row<{ data: string }>(`SELECT data FROM dir_employee_versions
        WHERE account_id = $1 AND file_id = $2 AND organization_code = $3 AND registration_reference = $4`, [a, file, org, ref]);
      return json === undefined ? undefined : JSON.parse(json.data) as Employee;
    },
    forgetPrevious: (w, a, file) => w.q.run('DELETE FROM dir_employee_versions WHERE account_id = $1 AND file_id = $2', [a, file]),
    getUser: (w, a, login) => this.users.get(w, a, [login]),
    listUsers: (w, a) => this.users.list(w, a),
    upsertUser: (w, a, u, options) => this.users.upsert(w, a, u as DirectoryUser, options as WriteOptions),
    getDocument: (w, a, ref) => this.documents.get(w, a, [ref]),
    listDocuments: (w, a) => this.documents.list(w, a),
    upsertDocument: (w, a, d, options) => this.documents.upsert(w, a, d as DirectoryDocument, options as WriteOptions),
  };

  /** SQLite's findEmployees: by technical id, else by e-mail compared case-insensitively (SQLite's NOCASE: lower()), in key order. */
  private async find(work: Work, accountId: string, by: { technicalId?: string; email?: string }): Promise<Employee[]> {
    const column = by.technicalId !== undefined ? 'technical_id = $2' : by.email !== undefined ? 'lower(email) = lower($2)' : undefined;
    if (column === undefined) return [];
    const rows = await work.q.rows<Row>(`SELECT ${this.employees.selectList} FROM dir_employees WHERE account_id = $1 AND ${column}
      ORDER BY organization_code COLLATE "C", registration_reference COLLATE "C"`, [accountId, by.technicalId ?? by.email]);
    return this.employees.read(work, rows);
  }

  /** A unit of work: its statements in one transaction, the shapes it inserted known once it committed. */
  private async write<T>(fn: (work: Work) => Promise<T>): Promise<T> {
    let done: Work | undefined;
    const result = await this.pool.transaction(async (tx) => { done = new Work(tx); return fn(done); });
    this.shapes.committedWork(done!);
    return result;
  }

  private read<T>(fn: (work: Work) => Promise<T>): Promise<T> { return fn(new Work(this.pool)); }

  private call(write: boolean, method: DirectoryOp['method'], accountId: string, args: unknown[]): Promise<unknown> {
    const run = (work: Work): Promise<unknown> => (this.methods[method])(work, accountId, ...args);
    return write ? this.write(run) : this.read(run);
  }

  getOrganization(accountId: string, code: string): Promise<Organization | undefined> { return this.call(false, 'getOrganization', accountId, [code]) as Promise<Organization | undefined>; }
  listOrganizations(accountId: string): Promise<Organization[]> { return this.call(false, 'listOrganizations', accountId, []) as Promise<Organization[]>; }
  upsertOrganization(accountId: string, o: Organization, options?: WriteOptions): Promise<ChangeKind> {
    return this.call(true, 'upsertOrganization', accountId, [o, options]) as Promise<ChangeKind>;
  }

  getEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<Employee | undefined> {
    return this.call(false, 'getEmployee', accountId, [organizationCode, registrationReference]) as Promise<Employee | undefined>;
  }
  findEmployees(accountId: string, by: { technicalId?: string; email?: string }): Promise<Employee[]> { return this.call(false, 'findEmployees', accountId, [by]) as Promise<Employee[]>; }
  listEmployees(accountId: string): Promise<Employee[]> { return this.call(false, 'listEmployees', accountId, []) as Promise<Employee[]>; }
  upsertEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<ChangeKind> { return this.call(true, 'upsertEmployee', accountId, [e, options]) as Promise<ChangeKind>; }
  createEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<boolean> { return this.call(true, 'createEmployee', accountId, [e, options]) as Promise<boolean>; }
  updateEmployee(accountId: string, e: Employee, options?: WriteOptions): Promise<ChangeKind | undefined> {
    return this.call(true, 'updateEmployee', accountId, [e, options]) as Promise<ChangeKind | undefined>;
  }
  removeEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<boolean> {
    return this.call(true, 'removeEmployee', accountId, [organizationCode, registrationReference]) as Promise<boolean>;
  }
  previousEmployee(accountId: string, organizationCode: string, registrationReference: string, sourceFile: string): Promise<Employee | undefined> {
    return this.call(false, 'previousEmployee', accountId, [organizationCode, registrationReference, sourceFile]) as Promise<Employee | undefined>;
  }
  forgetPrevious(accountId: string, sourceFile: string): Promise<number> { return this.call(true, 'forgetPrevious', accountId, [sourceFile]) as Promise<number>; }

  getUser(accountId: string, login: string): Promise<DirectoryUser | undefined> { return this.call(false, 'getUser', accountId, [login]) as Promise<DirectoryUser | undefined>; }
  listUsers(accountId: string): Promise<DirectoryUser[]> { return this.call(false, 'listUsers', accountId, []) as Promise<DirectoryUser[]>; }
  upsertUser(accountId: string, u: DirectoryUser, options?: WriteOptions): Promise<ChangeKind> { return this.call(true, 'upsertUser', accountId, [u, options]) as Promise<ChangeKind>; }

  getDocument(accountId: string, externalReference: string): Promise<DirectoryDocument | undefined> {
    return this.call(false, 'getDocument', accountId, [externalReference]) as Promise<DirectoryDocument | undefined>;
  }
  listDocuments(accountId: string): Promise<DirectoryDocument[]> { return this.call(false, 'listDocuments', accountId, []) as Promise<DirectoryDocument[]>; }
  upsertDocument(accountId: string, d: DirectoryDocument, options?: WriteOptions): Promise<ChangeKind> {
    return this.call(true, 'upsertDocument', accountId, [d, options]) as Promise<ChangeKind>;
  }
}
