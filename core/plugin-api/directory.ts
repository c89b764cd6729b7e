/**
 * The HR directory as plugins see it (organizations, employees, users, documents).
 * Implementation: core/store/directory-repository.ts. Every method takes the account id:
 * rows of one account are invisible to another. Writes return what they did, so handlers
 * can report created / updated / unchanged per row; with `{ dryRun: true }` they only say
 * what they would do (test files in production are validated and reported, never applied).
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
  /** Journal id of the file the row comes from. */
  sourceFile?: string;
  /**
   * Called with the stored JSON of the row an `updated` write replaces, for handlers that
   * may have to undo the write later in the same file (restore it with JSON.parse + upsert).
   */
  onReplaced?: (previousJson: string) => void;
  /**
   * `JSON.stringify(entity)` when the caller already has it: tables that store the whole entity
   * use it rather than stringify again (employees store their attributes only, and ignore it).
   */
  json?: string;
}

/**
 * A scratch table for handlers that must see a whole file before applying it (the same key
 * twice with different data rejects both rows) without holding the file in memory.
 * Lives in SQLite's temp schema; drop it when done.
 */
export interface StagingArea {
  add(line: number, key: string, payload: string): void;
  /** Keys staged more than once with different payloads, with all their lines. */
  conflicts(): Array<{ key: string; lines: number[] }>;
  /** The staged rows in the order they were added, a page at a time. */
  rows(pageSize?: number): Iterable<{ line: number; key: string; payload: string }>;
  readonly size: number;
  drop(): void;
}

export interface DirectoryStore {
  /** Runs fn in one transaction: all of it applies, or none. fn must be synchronous. */
  transaction<T>(fn: () => T): T;

  getOrganization(accountId: string, code: string): Organization | undefined;
  listOrganizations(accountId: string): Organization[];
  upsertOrganization(accountId: string, organization: Organization, options?: WriteOptions): ChangeKind;

  getEmployee(accountId: string, organizationCode: string, registrationReference: string): Employee | undefined;
  /** Employees with this technical id or e-mail (case-insensitive), in key order. */
  findEmployees(accountId: string, by: { technicalId?: string; email?: string }): Employee[];
  listEmployees(accountId: string): Employee[];
  upsertEmployee(accountId: string, employee: Employee, options?: WriteOptions): ChangeKind;
  /**
   * upsertEmployee in two halves, for handlers that treat new keys apart (one statement per
   * new row, nothing looked up first): createEmployee adds the employee if its key is new and
   * returns false, writing nothing, if the key exists (in a dry run: whether it would add it);
   * updateEmployee replaces the stored employee if it differs, and returns undefined when no
   * employee has the key.
   */
  createEmployee(accountId: string, employee: Employee, options?: WriteOptions): boolean;
  updateEmployee(accountId: string, employee: Employee, options?: WriteOptions): 'updated' | 'unchanged' | undefined;
  /** Deletes one employee (to undo a creation); true when it existed. Leavers are deactivated, not removed. */
  removeEmployee(accountId: string, organizationCode: string, registrationReference: string): boolean;

  getUser(accountId: string, login: string): DirectoryUser | undefined;
  listUsers(accountId: string): DirectoryUser[];
  upsertUser(accountId: string, user: DirectoryUser, options?: WriteOptions): ChangeKind;

  getDocument(accountId: string, externalReference: string): DirectoryDocument | undefined;
  listDocuments(accountId: string): DirectoryDocument[];
  upsertDocument(accountId: string, document: DirectoryDocument, options?: WriteOptions): ChangeKind;

  createStaging(): StagingArea;
}
