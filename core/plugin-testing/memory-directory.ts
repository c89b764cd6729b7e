import { canonicalJson } from '../canonical-json';
import { FluxgateError } from '../errors';
import {
  ABSENT_FIELDS, type ChangeKind, type DirectoryDocument, type DirectoryOp, type DirectoryStore, type DirectoryUser, type Employee,
  type Organization, type WriteOptions,
} from '../plugin-api/directory';
import { batchFailure } from '../store/directory-batch';
import { checkEntity } from '../store/directory-tables';

/** The directory's rows, as createTestContext() is given them and shows them after a run. */
export interface DirectoryRows {
  organizations: Organization[];
  employees: Employee[];
  users: DirectoryUser[];
  documents: DirectoryDocument[];
}

type Table<T> = Map<string, T>;
const employeeKey = (org: string, ref: string): string => `${org}\u0000${ref}`;
const plain = <T>(row: T): T => JSON.parse(JSON.stringify(row)) as T;

/**
 * The rows of a MemoryDirectory, synchronously: the same created / updated / unchanged
 * answers as the engine's store for the same rows, dry runs, ABSENT_FIELDS merges,
 * keepPrevious, and transactions that roll back when fn throws.
 */
class MemoryRows {
  private organizations: Table<Organization> = new Map();
  private employees: Table<Employee> = new Map();
  private users: Table<DirectoryUser> = new Map();
  private documents: Table<DirectoryDocument> = new Map();
  private previous: Table<Employee> = new Map();

  constructor(rows: Partial<DirectoryRows> = {}) {
    for (const o of rows.organizations ?? []) this.organizations.set(o.code, plain(o));
    for (const e of rows.employees ?? []) this.employees.set(employeeKey(e.organizationCode, e.registrationReference), plain(e));
    for (const u of rows.users ?? []) this.users.set(u.login, plain(u));
    for (const d of rows.documents ?? []) this.documents.set(d.externalReference, plain(d));
  }

  /** What the directory holds now, sorted by key. */
  rows(): DirectoryRows {
    const sorted = <T>(t: Table<T>) => [...t.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => plain(v));
    return { organizations: sorted(this.organizations), employees: sorted(this.employees), users: sorted(this.users), documents: sorted(this.documents) };
  }

  transaction<T>(fn: () => T): T {
    const saved = { organizations: new Map(this.organizations), employees: new Map(this.employees), users: new Map(this.users),
      documents: new Map(this.documents), previous: new Map(this.previous) };
    try {
      return fn();
    } catch (err) {
      Object.assign(this, saved);
      throw err;
    }
  }

  private write<T>(table: Table<T>, key: string, row: T, options: WriteOptions = {}): ChangeKind {
    const stored = table.get(key);
    const next = plain(row);
    const kind: ChangeKind = !stored ? 'created' : canonicalJson(stored) === canonicalJson(next) ? 'unchanged' : 'updated';
    if (!options.dryRun && kind !== 'unchanged') table.set(key, next);
    return kind;
  }

  getOrganization(_a: string, code: string) { return this.copy(this.organizations.get(code)); }
  listOrganizations() { return this.rows().organizations; }
  upsertOrganization(_a: string, o: Organization, options?: WriteOptions) {
    this.refuseKeep(options, 'organizations');
    checkEntity('organization', o);
    return this.write(this.organizations, o.code, o, options);
  }

  getEmployee(_a: string, org: string, ref: string) { return this.copy(this.employees.get(employeeKey(org, ref))); }
  findEmployees(_a: string, by: { technicalId?: string; email?: string }) {
    return this.rows().employees.filter((e) => (by.technicalId !== undefined && e.technicalId === by.technicalId)
      || (by.email !== undefined && e.email?.toLowerCase() === by.email.toLowerCase()));
  }
  listEmployees() { return this.rows().employees; }

  upsertEmployee(a: string, e: Employee, options?: WriteOptions): ChangeKind {
    return this.employees.has(employeeKey(e.organizationCode, e.registrationReference))
      ? this.updateEmployee(a, e, options)!
      : (this.createEmployee(a, e, options), 'created');
  }

  createEmployee(_a: string, e: Employee, options: WriteOptions = {}): boolean {
    // The engine's stores refuse what they cannot hold, new key or not (directory-tables.ts, checkColumn).
    checkEntity('employee', e);
    if (this.employees.has(employeeKey(e.organizationCode, e.registrationReference))) return false;
    if (!options.dryRun) this.employees.set(employeeKey(e.organizationCode, e.registrationReference), plain(e));
    return true;
  }

  updateEmployee(_a: string, e: Employee, options: WriteOptions = {}): ChangeKind | undefined {
    const key = employeeKey(e.organizationCode, e.registrationReference);
    const stored = this.employees.get(key);
    if (!stored) return undefined;
    if (options.keepPrevious && !options.sourceFile) throw new FluxgateError('FG_PLUGIN_INVALID', 'keepPrevious needs sourceFile');
    const merged = merge(stored, e);
    checkEntity('employee', merged);
    const kind = this.write(this.employees, key, merged, options);
    if (kind === 'updated' && options.keepPrevious && !options.dryRun) {
      const keep = `${options.sourceFile}\u0000${key}`;
      if (!this.previous.has(keep)) this.previous.set(keep, stored);
    }
    return kind;
  }

  removeEmployee(_a: string, org: string, ref: string) { return this.employees.delete(employeeKey(org, ref)); }
  previousEmployee(_a: string, org: string, ref: string, sourceFile: string) { return this.copy(this.previous.get(`${sourceFile}\u0000${employeeKey(org, ref)}`)); }
  forgetPrevious(_a: string, sourceFile: string): number {
    let n = 0;
    for (const key of [...this.previous.keys()]) if (key.startsWith(`${sourceFile}\u0000`)) { this.previous.delete(key); n++; }
    return n;
  }

  getUser(_a: string, login: string) { return this.copy(this.users.get(login)); }
  listUsers() { return this.rows().users; }
  upsertUser(_a: string, u: DirectoryUser, options?: WriteOptions) {
    this.refuseKeep(options, 'users');
    checkEntity('user', u);
    return this.write(this.users, u.login, u, options);
  }

  getDocument(_a: string, ref: string) { return this.copy(this.documents.get(ref)); }
  listDocuments() { return this.rows().documents; }
  upsertDocument(_a: string, d: DirectoryDocument, options?: WriteOptions) {
    this.refuseKeep(options, 'documents');
    checkEntity('document', d);
    return this.write(this.documents, d.externalReference, d, options);
  }

  private copy<T>(row: T | undefined): T | undefined { return row === undefined ? undefined : plain(row); }

  private refuseKeep(options: WriteOptions | undefined, what: string): void {
    if (options?.keepPrevious) throw new FluxgateError('FG_PLUGIN_INVALID', `keepPrevious applies to employees only, not ${what}`);
  }
}

type RowsMethod = (accountId: string, ...args: unknown[]) => unknown;

/**
 * An in-memory DirectoryStore for unit tests of handlers (createTestContext), async as the
 * engine's: each method resolves to what MemoryRows answers, and `batch` runs its operations
 * in one transaction (rolled back whole when one throws, with the engine's error). One account
 * only: the context binds it like the engine's (account-directory.ts).
 */
export class MemoryDirectory implements DirectoryStore {
  private readonly memory: MemoryRows;

  constructor(rows: Partial<DirectoryRows> = {}) { this.memory = new MemoryRows(rows); }

  /** What the directory holds now, sorted by key. */
  rows(): DirectoryRows { return this.memory.rows(); }

  async batch(accountId: string, ops: readonly DirectoryOp[]): Promise<unknown[]> {
    const memory = this.memory as unknown as Record<string, RowsMethod>;
    let at = 0;
    try {
      return this.memory.transaction(() => {
        const results = new Array<unknown>(ops.length);
        for (; at < ops.length; at++) results[at] = memory[ops[at].method].call(this.memory, accountId, ...(ops[at].args ?? []) as unknown[]);
        return results;
      });
    } catch (err) {
      throw batchFailure(err, at, ops[at].method, ops.length);
    }
  }

  async getOrganization(a: string, code: string) { return this.memory.getOrganization(a, code); }
  async listOrganizations(_a: string) { return this.memory.listOrganizations(); }
  async upsertOrganization(a: string, o: Organization, options?: WriteOptions) { return this.memory.upsertOrganization(a, o, options); }
  async getEmployee(a: string, org: string, ref: string) { return this.memory.getEmployee(a, org, ref); }
  async findEmployees(a: string, by: { technicalId?: string; email?: string }) { return this.memory.findEmployees(a, by); }
  async listEmployees(_a: string) { return this.memory.listEmployees(); }
  async upsertEmployee(a: string, e: Employee, options?: WriteOptions) { return this.memory.upsertEmployee(a, e, options); }
  async createEmployee(a: string, e: Employee, options?: WriteOptions) { return this.memory.createEmployee(a, e, options); }
  async updateEmployee(a: string, e: Employee, options?: WriteOptions) { return this.memory.updateEmployee(a, e, options); }
  async removeEmployee(a: string, org: string, ref: string) { return this.memory.removeEmployee(a, org, ref); }
  async previousEmployee(a: string, org: string, ref: string, sourceFile: string) { return this.memory.previousEmployee(a, org, ref, sourceFile); }
  async forgetPrevious(a: string, sourceFile: string) { return this.memory.forgetPrevious(a, sourceFile); }
  async getUser(a: string, login: string) { return this.memory.getUser(a, login); }
  async listUsers(_a: string) { return this.memory.listUsers(); }
  async upsertUser(a: string, u: DirectoryUser, options?: WriteOptions) { return this.memory.upsertUser(a, u, options); }
  async getDocument(a: string, ref: string) { return this.memory.getDocument(a, ref); }
  async listDocuments(_a: string) { return this.memory.listDocuments(); }
  async upsertDocument(a: string, d: DirectoryDocument, options?: WriteOptions) { return this.memory.upsertDocument(a, d, options); }
}

/** An employee read from a file with ABSENT_FIELDS keeps the stored values of what the file said nothing about. */
function merge(stored: Employee, e: Employee): Employee {
  const absent = e[ABSENT_FIELDS];
  const { [ABSENT_FIELDS]: _, ...row } = e;
  if (!absent) return row;
  const merged: Employee = { ...row, attributes: { ...stored.attributes, ...row.attributes } };
  for (const field of absent.core) (merged as unknown as Record<string, unknown>)[field] = stored[field];
  for (const name of absent.attributes) {
    if (name in stored.attributes) merged.attributes[name] = stored.attributes[name];
    else delete merged.attributes[name];
  }
  return merged;
}
