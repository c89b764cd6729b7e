/**
 * The HR directory (organizations, employees, users, documents). Handlers get it as
 * `ctx.directory`, an AccountDirectory bound to the account of the file being processed (no
 * account parameter: another account's rows cannot be named). The engine's DirectoryStore
 * below takes the account id on every method (implementation: core/store/directory-repository.ts).
 * Writes return what they did, so handlers can report created / updated / unchanged per row;
 * with `{ dryRun: true }` they only say what they would do (test files in production are
 * validated and reported, never applied).
 */
export type ChangeKind = 'created' | 'updated' | 'unchanged';

/** Extra fields kept with an entity: optional columns, custom columns, drop-box columns. */
export type Attributes = Record<string, string | boolean | null>;

export interface Organization {
  code: string;
  name: string;
  parentCode: string | null;
  /** description, company_name, contact_*, address1, zip_code, city, country. */
  attributes: Attributes;
}

/** The key under which an employee built from a file carries its AbsentFields. */
export const ABSENT_FIELDS: unique symbol = Symbol('fluxgate.absentFields');

export interface Employee {
  /** '' for drop-box accounts, which have no organizations. */
  organizationCode: string;
  registrationReference: string;
  technicalId: string | null;
  /** professional_email (exchange) or Email (drop-box). */
  email: string | null;
  lastname: string;
  firstname: string;
  active: boolean;
  departureDate: string | null;
  attributes: Attributes;
  /**
   * Set by a plugin on an employee it read from a file: what the file said nothing about
   * (see AbsentFields). Never set on employees the directory returns.
   */
  [ABSENT_FIELDS]?: AbsentFields;
}

/** Core fields of an employee a file may have no column for. */
export type AbsentCoreField = 'technicalId' | 'email' | 'lastname' | 'firstname' | 'active' | 'departureDate';

/**
 * What a file says nothing about, for an employee read from it: the fields whose column is
 * absent from the file's header. The rule for employees (sal, drop-box, any plugin that
 * marks them):
 *
 * - a column **absent** from the header leaves the stored value of its field unchanged;
 * - an **empty** value in a column that is present means "no value" (null, or the field's
 *   default), as the plugin builds it.
 *
 * How a plugin says it: it builds the employee as for a new one, with the defaults of the
 * absent fields (what a new employee gets), and sets `employee[ABSENT_FIELDS]` to one shared
 * object per header (work it out once per header, not per row). Then:
 *
 * - createEmployee, and upsertEmployee of a new key, store the employee as it is (defaults
 *   included): the marker changes nothing for a new key and costs nothing there;
 * - updateEmployee, and upsertEmployee of an existing key, first merge: each field named in
 *   `core` and each attribute named in `attributes` keeps its stored value (an attribute the
 *   stored employee does not have stays unset), and so does every stored attribute the
 *   employee does not hold at all (a custom column absent from the file); everything else
 *   comes from the employee. The created/updated/unchanged answer compares that merged
 *   employee with the stored one: a file with fewer columns and the same values is `unchanged`.
 *
 * An employee without the marker replaces the stored one whole, attributes included (what
 * restoring a row from previousEmployee relies on). Key fields are never absent. The marker
 * is a symbol: JSON.stringify and canonicalJson do not see it, so rows of one file still
 * compare by their JSON; comparing a marked employee with a stored one that way ignores the
 * merge, though (ask updateEmployee with `{ dryRun: true }` whether it would change anything).
 */
export interface AbsentFields {
  readonly core: readonly AbsentCoreField[];
  /** Attribute names whose column is absent (the employee holds their defaults). */
  readonly attributes: readonly string[];
}

export interface DirectoryUser {
  login: string;
  email: string;
  firstname: string;
  lastname: string;
  profileCode: string;
  organizationCodes: string[];
  attributes: Attributes;
}

export interface DirectoryDocument {
  externalReference: string;
  title: string;
  documentDate: string | null;
  /** The employee it belongs to. */
  organizationCode: string;
  registrationReference: string;
  /** Scoped path of the PDF (`vault/…`). */
  vaultPath: string;
  sha256: string;
  size: number;
  attributes: Attributes;
}

export interface WriteOptions {
  /** Only say what the write would do. */
  dryRun?: boolean;
  /**
   * Journal id of the file the row comes from (stored with the row). It also makes a retried
   * file report what the file changed: a row found already as the write would leave it is
   * `unchanged`, unless an earlier attempt of this same file (cut short by a crash, a stop or a
   * failure, after the file was last finished or replayed) wrote it last: then it is `created`
   * or `updated`, as that attempt did. A row written earlier in the current attempt (a row
   * repeated in the file) stays `unchanged`. Without `sourceFile`, only the data is compared.
   */
  sourceFile?: string;
  /**
   * Employees only, with `sourceFile`: an `updated` write keeps the employee it replaces, in the
   * same transaction, for handlers that may have to undo the write later in the same file.
   * previousEmployee gives it back, also after a crash (the retry of the file still has it).
   * Per file and key, the first row the file replaced is kept (the employee before the file),
   * across attempts too: a row this file wrote itself is never kept over it. Except when the
   * row replaced was last written by something else (another file, between two attempts of
   * this one): then that row is kept instead, since undoing this file must not undo that change.
   * Creating a new key keeps nothing (undo a creation by removing the employee). Dry runs keep
   * nothing. Updates and upserts refuse it (FG_PLUGIN_INVALID) without `sourceFile` and on other
   * entities than employees.
   */
  keepPrevious?: boolean;
  /**
   * `JSON.stringify(entity)` when the caller already has it: tables that store the whole entity
   * use it rather than stringify again (employees store their attributes only, and ignore it).
   */
  json?: string;
}

/**
 * The engine's directory: every method takes the account id and returns a Promise (plugin API
 * 2: on PostgreSQL each is a round trip to the database). Implemented once per engine
 * (core/store/directory-repository.ts for SQLite, through the port core/store/ports/directory.ts)
 * and in memory by the SDK (MemoryDirectory). There is no `transaction(fn)`: a transaction may
 * not stay open across awaits, so several writes that must apply together are one `batch`.
 */
export interface DirectoryStore {
  getOrganization(accountId: string, code: string): Promise<Organization | undefined>;
  listOrganizations(accountId: string): Promise<Organization[]>;
  upsertOrganization(accountId: string, organization: Organization, options?: WriteOptions): Promise<ChangeKind>;

  getEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<Employee | undefined>;
  /** Employees with this technical id or e-mail (case-insensitive), in key order. */
  findEmployees(accountId: string, by: { technicalId?: string; email?: string }): Promise<Employee[]>;
  listEmployees(accountId: string): Promise<Employee[]>;
  /**
   * Adds the employee, or updates the stored one with its key (merged first when the employee
   * carries ABSENT_FIELDS: absent fields keep their stored values).
   */
  upsertEmployee(accountId: string, employee: Employee, options?: WriteOptions): Promise<ChangeKind>;
  /**
   * upsertEmployee in two halves, for handlers that treat new keys apart (one statement per
   * new row, nothing looked up first): createEmployee adds the employee if its key is new and
   * returns false, writing nothing, if the key exists (in a dry run: whether it would add it);
   * updateEmployee replaces the stored employee if it differs (after the ABSENT_FIELDS merge),
   * and returns undefined when no employee has the key. It answers `created` only for an
   * employee an earlier, interrupted attempt of the same file (`sourceFile`) created: see
   * WriteOptions.sourceFile.
   */
  createEmployee(accountId: string, employee: Employee, options?: WriteOptions): Promise<boolean>;
  updateEmployee(accountId: string, employee: Employee, options?: WriteOptions): Promise<ChangeKind | undefined>;
  /** Deletes one employee (to undo a creation); true when it existed. Leavers are deactivated, not removed. */
  removeEmployee(accountId: string, organizationCode: string, registrationReference: string): Promise<boolean>;
  /**
   * The employee as it was before file `sourceFile` replaced it (a write with `keepPrevious`),
   * or undefined when that file kept none for the key. It carries no ABSENT_FIELDS: upserting
   * it puts the row back whole.
   */
  previousEmployee(accountId: string, organizationCode: string, registrationReference: string, sourceFile: string): Promise<Employee | undefined>;
  /**
   * Deletes what writes of file `sourceFile` kept (keepPrevious); returns how many. A handler
   * forgets them once its undo has committed (in the same transaction), and when a fresh run of
   * the file begins (`ctx.attempt` 1: the file was just received, or replayed), so that what a
   * run that never finished kept (the file went dead, was replayed later, after other files
   * changed the employees) is never taken for this run's.
   */
  forgetPrevious(accountId: string, sourceFile: string): Promise<number>;

  getUser(accountId: string, login: string): Promise<DirectoryUser | undefined>;
  listUsers(accountId: string): Promise<DirectoryUser[]>;
  upsertUser(accountId: string, user: DirectoryUser, options?: WriteOptions): Promise<ChangeKind>;

  getDocument(accountId: string, externalReference: string): Promise<DirectoryDocument | undefined>;
  listDocuments(accountId: string): Promise<DirectoryDocument[]>;
  upsertDocument(accountId: string, document: DirectoryDocument, options?: WriteOptions): Promise<ChangeKind>;

  /**
   * A unit of work: runs the operations in order in one transaction and resolves to their
   * results (what each method resolves to); if one throws, none applies and the Promise rejects
   * with that error, prefixed with the operation's index (`details.operation`, `details.method`).
   * `ops` are checked by the caller (ctx.directory.batch, core/workflow/account-directory.ts).
   */
  batch(accountId: string, ops: readonly DirectoryOp[]): Promise<unknown[]>;
}

/** Drops the leading account id of a DirectoryStore method. */
type Bound<F> = F extends (accountId: string, ...rest: infer A) => infer R ? (...args: A) => R : never;

/** The DirectoryStore's methods bound to one account (no account id), by name. */
export type BoundDirectoryMethods = { [K in Exclude<keyof DirectoryStore, 'batch'>]: Bound<DirectoryStore[K]> };

/**
 * One operation of `ctx.directory.batch`: a bound method's name and its arguments, as the
 * method takes them (`{ method: 'createEmployee', args: [employee, { sourceFile }] }`). Plain
 * data, so that a batch crosses a process boundary (the sandbox) in one message.
 */
export type DirectoryOp = { [K in keyof BoundDirectoryMethods]: { method: K; args: Parameters<BoundDirectoryMethods[K]> } }[keyof BoundDirectoryMethods];

/** What an operation of a batch resolves to: what its method resolves to. */
export type DirectoryOpResult<Op extends DirectoryOp> = Awaited<ReturnType<BoundDirectoryMethods[Op['method']]>>;

/** The results of a batch, one per operation, in order. */
export type DirectoryBatchResults<Ops extends readonly DirectoryOp[]> = { -readonly [I in keyof Ops]: Ops[I] extends DirectoryOp ? DirectoryOpResult<Ops[I]> : never };

/**
 * `ctx.directory`: the DirectoryStore bound to the account of the file being processed. The
 * same methods without their account id (`await listEmployees()`, `await getEmployee(org, ref)`,
 * `await upsertEmployee(employee, options)`…), each returning a Promise. A call given an account
 * id anyway (the API before it was bound, or another account) is refused with
 * FG_PLUGIN_PERMISSION (the Promise rejects).
 *
 * `batch(ops)` runs a list of operations in order in one transaction and resolves to their
 * results (docs/plugin-api.md, "Batches"): the way to apply several writes atomically (there is
 * no `transaction(fn)` since plugin API 2), and one engine round trip for many rows, which a
 * sandboxed plugin needs (each other call is a round trip to the engine). If an operation
 * throws, none of the batch applies and the Promise rejects with that error (its
 * `details.operation`: the index).
 */
export type AccountDirectory = BoundDirectoryMethods & {
  batch<const Ops extends readonly DirectoryOp[]>(ops: Ops): Promise<DirectoryBatchResults<Ops>>;
};
