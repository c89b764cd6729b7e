import type {
  ChangeKind, DirectoryDocument, DirectoryStore, DirectoryUser, Employee, Organization, StagingArea, WriteOptions,
} from '../plugin-api/directory';
import { canonicalJson } from '../records/fields';
import type { Database } from './database';
import { SqliteStaging } from './directory-staging';

/** How one entity maps to its table: key columns, searchable columns; `data` holds the rest. */
interface TableSpec<T> {
  table: string;
  keyColumns: readonly string[];
  key(entity: T): unknown[];
  /** The searchable columns, in the order `values` gives them. */
  columns: readonly string[];
  values(entity: T): unknown[];
}

const ORGANIZATIONS: TableSpec<Organization> = {
  table: 'dir_organizations',
  keyColumns: ['code'],
  key: (o) => [o.code],
  columns: ['name', 'parent_code'],
  values: (o) => [o.name, o.parentCode],
};
const EMPLOYEES: TableSpec<Employee> = {
  table: 'dir_employees',
  keyColumns: ['organization_code', 'registration_reference'],
  key: (e) => [e.organizationCode, e.registrationReference],
  columns: ['technical_id', 'email', 'lastname', 'firstname', 'active', 'departure_date'],
  values: (e) => [e.technicalId, e.email, e.lastname, e.firstname, e.active ? 1 : 0, e.departureDate],
};
const USERS: TableSpec<DirectoryUser> = {
  table: 'dir_users',
  keyColumns: ['login'],
  key: (u) => [u.login],
  columns: ['email', 'lastname', 'firstname', 'profile_code', 'organization_codes'],
  values: (u) => [u.email, u.lastname, u.firstname, u.profileCode, JSON.stringify(u.organizationCodes)],
};
const DOCUMENTS: TableSpec<DirectoryDocument> = {
  table: 'dir_documents',
  keyColumns: ['external_reference'],
  key: (d) => [d.externalReference],
  columns: ['title', 'document_date', 'organization_code', 'registration_reference', 'vault_path', 'sha256', 'size'],
  values: (d) => [d.title, d.documentDate, d.organizationCode, d.registrationReference, d.vaultPath, d.sha256, d.size],
};

/** Prepared statements of one table, and the created/updated/unchanged decision. */
class EntityTable<T> {
  private readonly select;
  private readonly list;
  private readonly insertIfNew;
  private readonly update;
  private readonly delete;

  constructor(db: Database, private readonly spec: TableSpec<T>) {
    const where = ['account_id', ...spec.keyColumns].map((c) => `${c} = ?`).join(' AND ');
    const cols = spec.columns;
    const all = ['account_id', ...spec.keyColumns, ...cols, 'data', 'source_file', 'created_at', 'updated_at'];
    this.select = db.prepare(`SELECT data FROM ${spec.table} WHERE ${where}`).pluck();
    this.list = db.prepare(`SELECT data FROM ${spec.table} WHERE account_id = ? ORDER BY ${spec.keyColumns.join(', ')}`).pluck();
    // OR IGNORE on the primary key only: every other column is always provided.
    this.insertIfNew = db.prepare(`INSERT OR IGNORE INTO ${spec.table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')})`);
    this.delete = db.prepare(`DELETE FROM ${spec.table} WHERE ${where}`);
    this.update = db.prepare(`UPDATE ${spec.table} SET ${[...cols, 'data', 'source_file', 'updated_at'].map((c) => `${c} = ?`).join(', ')} WHERE ${where}`);
  }

  get(accountId: string, key: unknown[]): T | undefined {
    const data = this.select.get(accountId, ...key) as string | undefined;
    return data === undefined ? undefined : JSON.parse(data) as T;
  }

  all(accountId: string): T[] {
    return (this.list.all(accountId) as string[]).map((d) => JSON.parse(d) as T);
  }

  upsert(accountId: string, entity: T, options: WriteOptions = {}): ChangeKind {
    const key = this.spec.key(entity);
    const data = options.json ?? JSON.stringify(entity);
    const now = Date.now();
    const values = this.spec.values(entity);
    const source = options.sourceFile ?? null;
    // New rows are the common case of big files: one statement, no lookup first. One array
    // of parameters (better-sqlite3 binds an array as the positional parameters) rather than spreads.
    if (!options.dryRun) {
      const params: unknown[] = [accountId];
      for (const k of key) params.push(k);
      for (const v of values) params.push(v);
      params.push(data, source, now, now);
      if (this.insertIfNew.run(params).changes > 0) return 'created';
    }
    const existing = this.select.get(accountId, ...key) as string | undefined;
    if (existing === undefined) return 'created'; // dry run
    // Handlers build entities in a fixed key order, so the plain JSON usually matches as is;
    // the order-insensitive comparison only runs when the texts differ.
    if (existing === data || canonicalJson(JSON.parse(existing)) === canonicalJson(entity)) return 'unchanged';
    if (options.dryRun) return 'updated';
    options.onReplaced?.(existing);
    this.update.run(...values, data, source, now, accountId, ...key);
    return 'updated';
  }

  remove(accountId: string, key: unknown[]): boolean {
    return this.delete.run(accountId, ...key).changes > 0;
  }
}

/** The directory store on SQLite (see migrations/002-directory.ts). */
export class DirectoryRepository implements DirectoryStore {
  private readonly organizations: EntityTable<Organization>;
  private readonly employees: EntityTable<Employee>;
  private readonly users: EntityTable<DirectoryUser>;
  private readonly documents: EntityTable<DirectoryDocument>;
  private readonly byTechnicalId;
  private readonly byEmail;

  constructor(private readonly db: Database) {
    this.organizations = new EntityTable(db, ORGANIZATIONS);
    this.employees = new EntityTable(db, EMPLOYEES);
    this.users = new EntityTable(db, USERS);
    this.documents = new EntityTable(db, DOCUMENTS);
    this.byTechnicalId = db.prepare('SELECT data FROM dir_employees WHERE account_id = ? AND technical_id = ? ORDER BY organization_code, registration_reference').pluck();
    this.byEmail = db.prepare('SELECT data FROM dir_employees WHERE account_id = ? AND email = ? COLLATE NOCASE ORDER BY organization_code, registration_reference').pluck();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
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
    return (rows as string[]).map((d) => JSON.parse(d) as Employee);
  }
  listEmployees(accountId: string): Employee[] { return this.employees.all(accountId); }
  removeEmployee(accountId: string, organizationCode: string, registrationReference: string): boolean {
    return this.employees.remove(accountId, [organizationCode, registrationReference]);
  }
  upsertEmployee(accountId: string, e: Employee, options?: WriteOptions): ChangeKind { return this.employees.upsert(accountId, e, options); }

  getUser(accountId: string, login: string): DirectoryUser | undefined { return this.users.get(accountId, [login]); }
  listUsers(accountId: string): DirectoryUser[] { return this.users.all(accountId); }
  upsertUser(accountId: string, u: DirectoryUser, options?: WriteOptions): ChangeKind { return this.users.upsert(accountId, u, options); }

  getDocument(accountId: string, externalReference: string): DirectoryDocument | undefined { return this.documents.get(accountId, [externalReference]); }
  listDocuments(accountId: string): DirectoryDocument[] { return this.documents.all(accountId); }
  upsertDocument(accountId: string, d: DirectoryDocument, options?: WriteOptions): ChangeKind { return this.documents.upsert(accountId, d, options); }

  createStaging(): StagingArea { return new SqliteStaging(this.db); }
}
