/**
 * How the directory's entities map to SQLite tables, and each table's prepared statements with
 * the created / updated / unchanged decision: the synchronous core of the SQLite directory
 * (directory-rows.ts).
 */
import {
  ABSENT_FIELDS,
  type AbsentCoreField, type AbsentFields, type Attributes, type ChangeKind, type DirectoryDocument, type DirectoryUser, type Employee,
  type Organization, type WriteOptions,
} from '../plugin-api/directory';
import { FluxgateError } from '../errors';
import { canonicalJson } from '../canonical-json';
import type { AttributeShapes } from './attribute-shapes';
import { ChunkedInsert } from './chunked-insert';
import type { Database } from './database';
import type { EmployeeVersions } from './employee-versions';

export type Row = Record<string, unknown>;

/**
 * Whether a row that file `fileId` wrote at `writtenAt` was written by an earlier attempt of the
 * file's current processing (one a crash, a stop or a failure cut short), not by this attempt.
 */
export type ByEarlierAttempt = (fileId: string, writtenAt: number) => boolean;

/** How one entity maps to its table: key columns, searchable columns; `data` holds the rest. */
export interface TableSpec<T> {
  table: string;
  keyColumns: readonly string[];
  key(entity: T): unknown[];
  /** The searchable columns, in the order `values` gives them. */
  columns: readonly string[];
  values(entity: T): unknown[];
  /**
   * Split storage (employees, migrations 005 and 006): `data` holds what the columns do not
   * (`persist`: false in dry runs, which write nothing), `read` puts the entity back together,
   * and `same` tells whether stored data holds what the entity's would. Otherwise `data` is the
   * whole entity as JSON.
   */
  split?: { data: (entity: T, persist: boolean) => string; read: (row: Row) => T; same: (stored: string, entity: T) => boolean };
  /**
   * For an update: the entity to write over the stored row, when the incoming one says
   * nothing about some fields (employees: ABSENT_FIELDS); the entity itself otherwise.
   */
  merge?(stored: Row, entity: T): T;
}

/**
 * Checks one column's value before any write, the same on both engines: a text or a number
 * (`active` and `size` are numbers), NULL only where the column allows it (`optional`), no NUL
 * character in a text. Without it, SQLite's INSERT OR IGNORE skipped a row with NULL in a NOT
 * NULL column as if its key were there (the write answered `false`, an upsert `created`, and
 * nothing was stored) where PostgreSQL refused it; SQLite stored a NUL that PostgreSQL cannot
 * hold; better-sqlite3 refused a boolean that PostgreSQL stored as text.
 */
export function checkColumn(table: string, column: string, optional: boolean, value: unknown): void {
  if (typeof value === 'string') {
    if (!value.includes('\u0000')) return;
    throw new FluxgateError('FG_STORE_VALUE', `the store refuses a text with a NUL character (U+0000) for ${table}.${column}: `
      + 'PostgreSQL cannot store one, and SQLite refuses it as well so that both stores hold the same data', { column });
  }
  // Undefined is NULL, as both engines bind it (better-sqlite3, and node-postgres through asText).
  if (typeof value === 'number' || (optional && (value === null || value === undefined))) return;
  const given = value === null || value === undefined ? String(value) : `a value of type ${typeof value}`;
  throw new FluxgateError('FG_STORE_VALUE', optional
    ? `${table}.${column} takes a text, a number or nothing (null), not ${given}`
    : `${table}.${column} is required: it takes a text or a number, not ${given}`, { column });
}

/** A spec's key and values functions, each value checked (checkColumn) before it reaches either engine. */
function checked<T>(spec: TableSpec<T>, optional: readonly string[]): TableSpec<T> {
  const check = (columns: readonly string[], of: (entity: T) => unknown[]) => {
    const maybe = columns.map((c) => optional.includes(c));
    return (entity: T): unknown[] => {
      const values = of(entity);
      for (let i = 0; i < values.length; i++) checkColumn(spec.table, columns[i], maybe[i], values[i]);
      return values;
    };
  };
  return { ...spec, key: check(spec.keyColumns, (e) => spec.key(e)), values: check(spec.columns, (e) => spec.values(e)) };
}

export const ORGANIZATIONS: TableSpec<Organization> = checked({
  table: 'dir_organizations',
  keyColumns: ['code'],
  key: (o) => [o.code],
  columns: ['name', 'parent_code'],
  values: (o) => [o.name, o.parentCode],
}, ['parent_code']);
/** dir_employees' key and searchable columns, in the order of EMPLOYEE_FIELDS (employee-rows.ts). */
export const EMPLOYEE_COLUMNS: readonly string[] = ['organization_code', 'registration_reference', 'technical_id', 'email', 'lastname', 'firstname', 'active', 'departure_date'];
/** Employees: key and searchable fields in columns, attributes in `data` in the shaped form (attribute-shapes.ts). */
export const employees = (shapes: Pick<AttributeShapes, 'encode' | 'decode'>): TableSpec<Employee> => checked({
  table: 'dir_employees',
  keyColumns: EMPLOYEE_COLUMNS.slice(0, 2),
  key: (e) => [e.organizationCode, e.registrationReference],
  columns: EMPLOYEE_COLUMNS.slice(2),
  values: (e) => [e.technicalId, e.email, e.lastname, e.firstname, e.active ? 1 : 0, e.departureDate],
  split: {
    data: (e, persist) => shapes.encode(e.attributes, persist),
    read: (r) => ({
      organizationCode: r.organization_code as string, registrationReference: r.registration_reference as string,
      technicalId: r.technical_id as string | null, email: r.email as string | null,
      lastname: r.lastname as string, firstname: r.firstname as string,
      active: r.active === 1, departureDate: r.departure_date as string | null,
      attributes: shapes.decode(r.data as string),
    }),
    same: (stored, e) => canonicalJson(shapes.decode(stored)) === canonicalJson(e.attributes),
  },
  merge(row, e) {
    const absent = e[ABSENT_FIELDS];
    return absent === undefined ? e : mergeEmployee(row, shapes.decode(row.data as string), e, absent);
  },
}, EMPLOYEE_OPTIONAL);

/** dir_employees' columns that take NULL. */
const EMPLOYEE_OPTIONAL: readonly string[] = ['technical_id', 'email', 'departure_date'];
const EMPLOYEE_COLUMN_OPTIONAL = EMPLOYEE_COLUMNS.map((c) => EMPLOYEE_OPTIONAL.includes(c));
const ACTIVE = EMPLOYEE_COLUMNS.indexOf('active');

/**
 * The employees spec's checks for a flat row (EmployeeRows: the columns' values from
 * `values[at]`, in EMPLOYEE_COLUMNS order), without an Employee built; `active` binds as 1 or 0
 * whatever it is, as the spec's values() makes it.
 */
export function checkEmployeeRow(values: readonly unknown[], at: number): void {
  for (let c = 0; c < EMPLOYEE_COLUMNS.length; c++) {
    if (c !== ACTIVE) checkColumn('dir_employees', EMPLOYEE_COLUMNS[c], EMPLOYEE_COLUMN_OPTIONAL[c], values[at + c]);
  }
}

/** The employees spec's checks alone (no attribute shapes: only key and values are used). */
const EMPLOYEE_CHECKS = employees({ encode: () => '', decode: () => ({}) });

/**
 * Checks an entity's column values as a write on either engine would (checkColumn): what the
 * SDK's in-memory directory (core/plugin-testing) runs, so that a plugin's tests see the same refusals.
 */
export function checkEntity(kind: 'organization' | 'employee' | 'user' | 'document', entity: unknown): void {
  const spec = ({ organization: ORGANIZATIONS, employee: EMPLOYEE_CHECKS, user: USERS, document: DOCUMENTS } as Record<string, TableSpec<unknown>>)[kind];
  spec.key(entity);
  spec.values(entity);
}

/** Sets a property, `__proto__` included (a custom column may be called so). */
function put(attributes: Attributes, key: string, value: Attributes[string]): void {
  if (key === '__proto__') Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
  else attributes[key] = value;
}

/**
 * The stored employee (`row`, its attributes decoded) updated with what a file said about it:
 * the fields `absent` names, and the stored attributes the incoming employee does not hold,
 * keep their stored values (plugin-api/directory.ts, AbsentFields). Stored attributes keep their
 * order, new ones follow: an unchanged employee encodes to the text it is stored as.
 */
function mergeEmployee(row: Row, stored: Attributes, e: Employee, absent: AbsentFields): Employee {
  const attributes: Attributes = {};
  for (const key of Object.keys(stored)) put(attributes, key, stored[key]);
  const skip = absent.attributes;
  for (const key of Object.keys(e.attributes)) if (!skip.includes(key)) put(attributes, key, e.attributes[key]);
  const kept = (field: AbsentCoreField) => absent.core.includes(field);
  return {
    organizationCode: e.organizationCode, registrationReference: e.registrationReference,
    technicalId: kept('technicalId') ? row.technical_id as string | null : e.technicalId,
    email: kept('email') ? row.email as string | null : e.email,
    lastname: kept('lastname') ? row.lastname as string : e.lastname,
    firstname: kept('firstname') ? row.firstname as string : e.firstname,
    active: kept('active') ? row.active === 1 : e.active,
    departureDate: kept('departureDate') ? row.departure_date as string | null : e.departureDate,
    attributes,
  };
}
export const USERS: TableSpec<DirectoryUser> = checked({
  table: 'dir_users',
  keyColumns: ['login'],
  key: (u) => [u.login],
  columns: ['email', 'lastname', 'firstname', 'profile_code', 'organization_codes'],
  values: (u) => [u.email, u.lastname, u.firstname, u.profileCode, JSON.stringify(u.organizationCodes)],
}, []);
export const DOCUMENTS: TableSpec<DirectoryDocument> = checked({
  table: 'dir_documents',
  keyColumns: ['external_reference'],
  key: (d) => [d.externalReference],
  columns: ['title', 'document_date', 'organization_code', 'registration_reference', 'vault_path', 'sha256', 'size'],
  values: (d) => [d.title, d.documentDate, d.organizationCode, d.registrationReference, d.vaultPath, d.sha256, d.size],
}, ['document_date']);

/** Prepared statements of one table, and the created/updated/unchanged decision. */
export class EntityTable<T> {
  private readonly select;
  /** `select` and who last wrote the row, when (update only: the insert of a new key reads nothing). */
  private readonly selectForUpdate;
  private readonly list;
  private readonly insertIfNew;
  /** insertRows' statements, prepared on first use: only dir_employees has rowids (the other tables are WITHOUT ROWID). */
  private chunks?: ChunkedInsert;
  private readonly updateRow;
  private readonly delete;
  private readonly data: (entity: T, persist: boolean, json?: string) => string;
  readonly read: (row: Row) => T;
  /** The SELECT list `read` needs, for queries of this table written elsewhere. */
  readonly selected: string;
  private readonly columnsWritten: readonly string[];

  /** `versions`: where writes with `keepPrevious` keep the row they replace (employees only). */
  constructor(private readonly db: Database, private readonly spec: TableSpec<T>, private readonly byEarlierAttempt: ByEarlierAttempt,
    private readonly versions?: EmployeeVersions) {
    const where = ['account_id', ...spec.keyColumns].map((c) => `${c} = ?`).join(' AND ');
    const cols = spec.columns;
    const all = ['account_id', ...spec.keyColumns, ...cols, 'data', 'source_file', 'created_at', 'updated_at'];
    const selected = this.selected = ['data', ...(spec.split ? [...spec.keyColumns, ...cols] : [])].join(', ');
    this.select = db.prepare(`SELECT ${selected} FROM ${spec.table} WHERE ${where}`);
    this.selectForUpdate = db.prepare(`SELECT ${selected}, source_file, created_at, updated_at FROM ${spec.table} WHERE ${where}`);
    this.list = db.prepare(`SELECT ${selected} FROM ${spec.table} WHERE account_id = ? ORDER BY ${spec.keyColumns.join(', ')}`);
    // OR IGNORE meets the primary key only: every other column was checked first (checkColumn: no NULL where NOT NULL).
    this.insertIfNew = db.prepare(`INSERT OR IGNORE INTO ${spec.table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')})`);
    this.columnsWritten = all;
    this.delete = db.prepare(`DELETE FROM ${spec.table} WHERE ${where}`);
    this.updateRow = db.prepare(`UPDATE ${spec.table} SET ${[...cols, 'data', 'source_file', 'updated_at'].map((c) => `${c} = ?`).join(', ')} WHERE ${where}`);
    this.data = spec.split ? spec.split.data : (entity, _persist, json) => json ?? JSON.stringify(entity);
    this.read = spec.split ? spec.split.read : (row) => JSON.parse(row.data as string) as T;
  }

  get(accountId: string, key: unknown[]): T | undefined {
    const row = this.select.get(accountId, ...key) as Row | undefined;
    return row === undefined ? undefined : this.read(row);
  }

  all(accountId: string): T[] {
    return (this.list.all(accountId) as Row[]).map(this.read);
  }

  upsert(accountId: string, entity: T, options: WriteOptions = {}): ChangeKind {
    // Checked here too, so that a misuse fails whether or not the key is new (create does not look).
    if (options.keepPrevious && !options.dryRun) this.checkKeepPrevious(options);
    if (!options.dryRun && this.create(accountId, entity, options)) return 'created';
    return this.update(accountId, entity, options) ?? 'created'; // absent: a dry run
  }

  /** Inserts the entity if its key is new; false, with nothing written, if the key exists. A dry run writes nothing and says whether it would insert. */
  create(accountId: string, entity: T, options: WriteOptions = {}): boolean {
    if (options.dryRun) return this.select.get(accountId, ...this.spec.key(entity)) === undefined;
    // One statement, no lookup first: new rows are the common case of big files.
    const params: unknown[] = [];
    this.createParams(params, accountId, entity, options, Date.now());
    return this.insert(params);
  }

  /** Appends to `params` create's INSERT parameters for `entity` (not a dry run), `now` as its times; `data` when the caller encoded it. */
  createParams(params: unknown[], accountId: string, entity: T, options: WriteOptions, now: number, data = this.data(entity, true, options.json)): void {
    params.push(accountId);
    for (const k of this.spec.key(entity)) params.push(k);
    for (const v of this.spec.values(entity)) params.push(v);
    params.push(data, options.sourceFile ?? null, now, now);
  }

  /** create's INSERT (if the key is new) of its parameters: account id, key, columns, data, source file, created_at, updated_at. */
  insert(params: unknown[]): boolean {
    // Spread, not one array: better-sqlite3 reads an array element by element through V8's generic lookup.
    return this.insertIfNew.run(...params).changes > 0;
  }

  /** insert of `rows` rows of parameters, one after another, several rows per statement: whether each key was new, into `results` from `offset`. */
  insertRows(params: unknown[], rows: number, results: unknown[], offset: number): void {
    this.chunks ??= new ChunkedInsert(this.db, this.spec.table, this.columnsWritten, (one) => this.insert(one));
    this.chunks.insert(params, rows, results, offset);
  }

  /**
   * Replaces the stored entity with this key if it differs; undefined when no entity has the key.
   * A stored entity already as this write would leave it is `unchanged`, unless an earlier,
   * interrupted attempt of the same file (`options.sourceFile`) wrote it: then it is what that
   * attempt did to it (`created` or `updated`), so that the attempt that completes the file
   * reports what the file changed (see `earlierAttemptChange`).
   */
  update(accountId: string, entity: T, options: WriteOptions = {}): ChangeKind | undefined {
    if (options.keepPrevious && !options.dryRun) {
      this.checkKeepPrevious(options);
      // The kept row and the update commit together or not at all, also for a caller outside a transaction.
      if (!this.db.inTransaction) return this.db.transaction(() => this.update(accountId, entity, options))();
    }
    const key = this.spec.key(entity);
    const existing = this.selectForUpdate.get(accountId, ...key) as Row | undefined;
    if (existing === undefined) return undefined;
    if (this.spec.merge) entity = this.spec.merge(existing, entity);
    const data = this.data(entity, !options.dryRun, options.json);
    const values = this.spec.values(entity);
    if (this.unchanged(existing, entity, data, values)) return this.earlierAttemptChange(existing, options.sourceFile) ?? 'unchanged';
    if (options.dryRun) return 'updated';
    if (options.keepPrevious) {
      this.versions!.keep(accountId, options.sourceFile!, key, JSON.stringify(this.read(existing)), existing.source_file !== options.sourceFile);
    }
    this.updateRow.run(...values, data, options.sourceFile ?? null, Date.now(), accountId, ...key);
    return 'updated';
  }

  private checkKeepPrevious(options: WriteOptions): void {
    if (!this.versions) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `WriteOptions.keepPrevious is for employees only, not for ${this.spec.table} writes`);
    }
    if (options.sourceFile === undefined) {
      throw new FluxgateError('FG_PLUGIN_INVALID', 'WriteOptions.keepPrevious needs sourceFile (the journal id of the file being applied)');
    }
  }

  /**
   * What an earlier attempt of file `sourceFile` did to this row, when that attempt is the
   * row's last writer: `created` if it inserted the row (created_at = updated_at: an insert
   * sets both, an update only updated_at), else `updated`. Undefined when another file (or no
   * file) wrote it last, or this attempt did: a row repeated in the same file stays
   * `unchanged`, and so does a row of a file processed again after it finished (a replay
   * reports what the replay changes). Only reached for rows found unchanged, never on insert.
   */
  private earlierAttemptChange(existing: Row, sourceFile: string | undefined): 'created' | 'updated' | undefined {
    if (sourceFile === undefined || existing.source_file !== sourceFile) return undefined;
    const writtenAt = existing.updated_at as number;
    if (!this.byEarlierAttempt(sourceFile, writtenAt)) return undefined;
    return existing.created_at === writtenAt ? 'created' : 'updated';
  }

  /**
   * Handlers build entities in a fixed key order, so the stored JSON usually matches as is;
   * the order-insensitive comparison only runs when the texts differ.
   */
  private unchanged(existing: Row, entity: T, data: string, values: unknown[]): boolean {
    const { split } = this.spec;
    if (split && this.spec.columns.some((c, i) => existing[c] !== values[i])) return false;
    const stored = existing.data as string;
    if (stored === data) return true;
    return split ? split.same(stored, entity) : canonicalJson(JSON.parse(stored)) === canonicalJson(JSON.parse(data));
  }

  remove(accountId: string, key: unknown[]): boolean {
    return this.delete.run(accountId, ...key).changes > 0;
  }
}

