import type {
  ChangeKind, DirectoryDocument, DirectoryUser, Employee, Organization, WriteOptions,
} from '../plugin-api/directory';
import { AttributeShapes } from './attribute-shapes';
import { CHUNK_ROWS } from './chunked-insert';
import type { Database } from './database';
import {
  DOCUMENTS, EntityTable, ORGANIZATIONS, USERS, checkEmployeeRow, employees, type ByEarlierAttempt, type Row,
} from './directory-tables';
import { EMPLOYEE_FIELDS, rowAttributes } from './employee-rows';
import { batchFailure } from './directory-batch';
import { EmployeeVersions } from './employee-versions';
import type { EmployeeRows } from './ports/directory';

/**
 * The directory on SQLite (see migrations/002-directory.ts), synchronous: better-sqlite3 runs
 * each statement at once, and `transaction(fn)` runs fn synchronously. The directory's callers
 * use SqliteDirectoryRepository (directory-repository.ts: the port, async, units of work); this
 * class is what it runs on, and what tests use to set rows up.
 */
export class SqliteDirectoryRows {
  private readonly organizations: EntityTable<Organization>;
  private readonly employees: EntityTable<Employee>;
  private readonly users: EntityTable<DirectoryUser>;
  private readonly documents: EntityTable<DirectoryDocument>;
  private readonly byTechnicalId;
  private readonly byEmail;

  private readonly shapes: AttributeShapes;
  private readonly versions: EmployeeVersions;
  /** When a file's current processing and its current attempt began (the journal's timeline). */
  private readonly attemptTimes;
  /** Those times by file id, kept for one (outermost) transaction: no attempt starts during one. */
  private attemptCache?: Map<string, { since: number; attempt: number } | null>;
  private depth = 0;

  /** `afterWrite`: called after each transaction (the WAL checkpointer watches big writers through it). */
  constructor(private readonly db: Database, private readonly hooks: { afterWrite?: () => void } = {}) {
    this.shapes = new AttributeShapes(db);
    const byEarlierAttempt: ByEarlierAttempt = (fileId, writtenAt) => this.byEarlierAttempt(fileId, writtenAt);
    this.organizations = new EntityTable(db, ORGANIZATIONS, byEarlierAttempt);
    this.versions = new EmployeeVersions(db);
    this.employees = new EntityTable(db, employees(this.shapes), byEarlierAttempt, this.versions);
    this.users = new EntityTable(db, USERS, byEarlierAttempt);
    this.documents = new EntityTable(db, DOCUMENTS, byEarlierAttempt);
    // The engine records an `attempt` event before each attempt, and `processed`/`rejected`/`dead`
    // when the file is finished (a `replay` when an operator sends it round again).
    this.attemptTimes = db.prepare(`SELECT
        (SELECT at FROM file_events WHERE file_id = @file AND type = 'attempt' ORDER BY id DESC LIMIT 1) AS attempt,
        (SELECT at FROM file_events WHERE file_id = @file AND type IN ('processed', 'rejected', 'dead', 'replay') ORDER BY id DESC LIMIT 1) AS since`);
    const selected = this.employees.selected;
    this.byTechnicalId = db.prepare(`SELECT ${selected} FROM dir_employees WHERE account_id = ? AND technical_id = ? ORDER BY organization_code, registration_reference`);
    this.byEmail = db.prepare(`SELECT ${selected} FROM dir_employees WHERE account_id = ? AND email = ? COLLATE NOCASE ORDER BY organization_code, registration_reference`);
  }

  transaction<T>(fn: () => T): T {
    if (this.depth++ === 0) this.attemptCache = new Map();
    try {
      // IMMEDIATE: the write lock from BEGIN. Other connections write the directory too (the writer
      // thread, a sandbox's host): a deferred transaction that read first would fail with
      // SQLITE_BUSY, unwaited, had one of them committed before this one's first write.
      const result = this.shapes.within(() => this.db.transaction(fn).immediate());
      this.hooks.afterWrite?.();
      return result;
    } finally {
      if (--this.depth === 0) this.attemptCache = undefined;
    }
  }

  /**
   * Whether file `fileId` wrote at `writtenAt` during an earlier attempt of its current
   * processing: after the file was last finished (or replayed), before its current attempt
   * began (strictly: a row written in the millisecond its attempt began or its last run ended
   * belongs to that attempt or run). A file without an attempt in the journal (a store used outside the engine) has none.
   * Times are this host's clock, as the rows' own.
   */
  private byEarlierAttempt(fileId: string, writtenAt: number): boolean {
    let times = this.attemptCache?.get(fileId);
    if (times === undefined) {
      const row = this.attemptTimes.get({ file: fileId }) as { attempt: number | null; since: number | null };
      times = row.attempt === null ? null : { attempt: row.attempt, since: row.since ?? 0 };
      this.attemptCache?.set(fileId, times);
    }
    return times !== null && writtenAt < times.attempt && writtenAt > times.since;
  }

  getOrganization(accountId: string, code: string): Organization | undefined { return this.organizations.get(accountId, [code]); }
  listOrganizations(accountId: string): Organization[] { return this.organizations.all(accountId); }
  upsertOrganization(accountId: string, o: Organization, options?: WriteOptions): ChangeKind { return this.organizations.upsert(accountId, o, options); }

  getEmployee(accountId: string, organizationCode: string, registrationReference: string): Employee | undefined {
    return this.employees.get(accountId, [organizationCode, registrationReference]);
  }
  findEmployees(accountId: string, by: { technicalId?: string; email?: string }): Employee[] {
    const rows = by.technicalId !== undefined ? this.byTechnicalId.all(accountId, by.technicalId)
      : by.email !== undefined ? this.byEmail.all(accountId, by.email) : [];
    return (rows as Row[]).map(this.employees.read);
  }
  listEmployees(accountId: string): Employee[] { return this.employees.all(accountId); }
  removeEmployee(accountId: string, organizationCode: string, registrationReference: string): boolean {
    return this.employees.remove(accountId, [organizationCode, registrationReference]);
  }
  upsertEmployee(accountId: string, e: Employee, options?: WriteOptions): ChangeKind { return this.employees.upsert(accountId, e, options); }
  previousEmployee(accountId: string, organizationCode: string, registrationReference: string, sourceFile: string): Employee | undefined {
    const json = this.versions.get(accountId, sourceFile, organizationCode, registrationReference);
    return json === undefined ? undefined : JSON.parse(json) as Employee;
  }
  forgetPrevious(accountId: string, sourceFile: string): number { return this.versions.forget(accountId, sourceFile); }
  createEmployee(accountId: string, e: Employee, options?: WriteOptions): boolean { return this.employees.create(accountId, e, options); }
  updateEmployee(accountId: string, e: Employee, options?: WriteOptions): ChangeKind | undefined { return this.employees.update(accountId, e, options); }

  /**
   * employeeParams for rows the writer thread inserts (writeCreates there): the attributes'
   * shapes this connection has not seen in the table go into `needed`, for that thread's transaction.
   */
  employeeParamsDeferred(params: unknown[], accountId: string, e: Employee, options: WriteOptions, now: number, needed: Map<string, string>): void {
    this.employees.createParams(params, accountId, e, options, now, this.shapes.encodeDeferred(e.attributes, needed));
  }

  /** The shapes a writer thread's committed transaction inserted or found (employeeParamsDeferred's `needed`). */
  shapesStored(needed: ReadonlyMap<string, string>): void {
    this.shapes.storedElsewhere(needed);
  }

  /**
   * The writer thread's transaction: the shapes its rows name, then the rows, CHUNK_ROWS per
   * chunk of parameters (employeeParamsDeferred); whether each key was new. An error names the
   * chunk's first row, as the unit of work on the server's thread does.
   */
  writeCreates(shapes: ReadonlyArray<readonly [string, string]>, chunks: readonly unknown[][], count: number): boolean[] {
    const results = new Array<boolean>(count);
    let at = 0;
    try {
      this.transaction(() => {
        this.shapes.insertShapes(shapes);
        for (const chunk of chunks) {
          const rows = Math.min(CHUNK_ROWS, count - at);
          this.insertEmployees(chunk, rows, results, at);
          at += rows;
        }
      });
    } catch (err) {
      throw at < count ? batchFailure(err, at, 'createEmployee', count) : err;
    }
    return results;
  }

  /** Appends to `params` createEmployee's INSERT parameters for `e` (not a dry run): see insertEmployees. */
  employeeParams(params: unknown[], accountId: string, e: Employee, options: WriteOptions, now: number): void {
    this.employees.createParams(params, accountId, e, options, now);
  }

  /**
   * employeeParams for row `r` of flat rows: the values as they are (dir_employees' columns are
   * in EMPLOYEE_FIELDS order), the attributes shaped from them, no Employee built.
   */
  employeeRowParams(params: unknown[], accountId: string, rows: EmployeeRows, r: number, options: WriteOptions, now: number): void {
    const v = rows.values;
    const at = rows.rows[2 * r];
    const keys = rows.shapes[rows.rows[2 * r + 1]];
    const data = this.shapes.encodeValues(keys, v, at + EMPLOYEE_FIELDS.length) ?? JSON.stringify(rowAttributes(rows, r));
    checkEmployeeRow(v, at);
    params.push(accountId, v[at], v[at + 1], v[at + 2], v[at + 3], v[at + 4], v[at + 5], v[at + 6] ? 1 : 0, v[at + 7],
      data, options.sourceFile ?? null, now, now);
  }

  /** createEmployee of `rows` rows of INSERT parameters (employeeParams, employeeRowParams), several rows per statement: whether each key was new, into `results` from `offset`. */
  insertEmployees(params: unknown[], rows: number, results: unknown[], offset: number): void {
    this.employees.insertRows(params, rows, results, offset);
  }

  getUser(accountId: string, login: string): DirectoryUser | undefined { return this.users.get(accountId, [login]); }
  listUsers(accountId: string): DirectoryUser[] { return this.users.all(accountId); }
  upsertUser(accountId: string, u: DirectoryUser, options?: WriteOptions): ChangeKind { return this.users.upsert(accountId, u, options); }

  getDocument(accountId: string, externalReference: string): DirectoryDocument | undefined { return this.documents.get(accountId, [externalReference]); }
  listDocuments(accountId: string): DirectoryDocument[] { return this.documents.all(accountId); }
  upsertDocument(accountId: string, d: DirectoryDocument, options?: WriteOptions): ChangeKind { return this.documents.upsert(accountId, d, options); }
}
