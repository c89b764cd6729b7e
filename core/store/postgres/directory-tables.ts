import type { ChangeKind, WriteOptions } from '../../plugin-api/directory';
import { FluxgateError } from '../../errors';
import { canonicalJson } from '../../canonical-json';
import type { Row, TableSpec } from '../directory-tables';
import type { PgAttributeShapes, ShapeWork } from './directory-shapes';

/**
 * What one directory unit of work (a transaction) runs on: its connection and shapes, the
 * table specs bound to them, and the attempt times it read (no attempt starts during one).
 */
export interface DirectoryWork extends ShapeWork {
  /** Whether file `fileId` wrote at `writtenAt` during an earlier attempt (see SqliteDirectoryRows.byEarlierAttempt). */
  byEarlierAttempt(fileId: string, writtenAt: number): Promise<boolean>;
}

/** Most rows in one multi-row INSERT: PostgreSQL takes at most 65,535 parameters (employees use 13 a row). */
const ROWS_PER_INSERT = 1000;

/** Keys compared as SQLite compares them (bytes), whatever the database's collation. */
const binary = (columns: readonly string[]): string => columns.map((c) => `${c} COLLATE "C"`).join(', ');

/**
 * One directory table on PostgreSQL, with SQLite's EntityTable semantics (core/store/
 * directory-tables.ts: the same specs, the same created / updated / unchanged decision), each
 * statement on the unit of work's connection. Rows read are made to look like SQLite's
 * (`active` 1 or 0) so that the specs' read, merge and comparison apply as they are.
 */
export class PgEntityTable<T> {
  private readonly where: string;
  private readonly selected: string;
  private readonly all: readonly string[];

  /**
   * `spec(work)`: the table's spec for a unit of work (employees encode their attributes into
   * its shapes). `shapes`: set for employees. `versions`: whether writes may keep the replaced row.
   */
  constructor(private readonly spec: (work: DirectoryWork) => TableSpec<T>, private readonly table: TableSpec<T>,
    private readonly shapes?: PgAttributeShapes, private readonly versions = false) {
    const keys = ['account_id', ...table.keyColumns];
    this.where = keys.map((c, i) => `${c} = $${i + 1}`).join(' AND ');
    this.selected = ['data', ...(table.split ? [...table.keyColumns, ...table.columns] : [])].join(', ');
    this.all = [...keys, ...table.columns, 'data', 'source_file', 'created_at', 'updated_at'];
  }

  /** The SELECT list a read needs, for queries of this table written elsewhere (findEmployees). */
  get selectList(): string { return this.selected; }

  async get(work: DirectoryWork, accountId: string, key: unknown[]): Promise<T | undefined> {
    const row = await work.q.row<Row>(`SELECT ${this.selected} FROM ${this.table.table} WHERE ${this.where}`, [accountId, ...key]);
    return row === undefined ? undefined : (await this.read(work, [row]))[0];
  }

  async list(work: DirectoryWork, accountId: string): Promise<T[]> {
    return this.read(work, await work.q.rows<Row>(`SELECT ${this.selected} FROM ${this.table.table} WHERE account_id = $1 ORDER BY ${binary(this.table.keyColumns)}`, [accountId]));
  }

  /** Rows as entities: shapes loaded, `active` as SQLite holds it. */
  async read(work: DirectoryWork, rows: Row[]): Promise<T[]> {
    await this.load(work, rows);
    const spec = this.spec(work);
    return rows.map((row) => (spec.split ? spec.split.read(row) : JSON.parse(row.data as string) as T));
  }

  async upsert(work: DirectoryWork, accountId: string, entity: T, options: WriteOptions = {}): Promise<ChangeKind> {
    if (options.keepPrevious && !options.dryRun) this.checkKeepPrevious(options);
    if (!options.dryRun && await this.create(work, accountId, entity, options)) return 'created';
    return (await this.update(work, accountId, entity, options)) ?? 'created'; // absent: a dry run
  }

  async create(work: DirectoryWork, accountId: string, entity: T, options: WriteOptions = {}): Promise<boolean> {
    if (options.dryRun) {
      return await work.q.row(`SELECT 1 FROM ${this.table.table} WHERE ${this.where}`, [accountId, ...this.table.key(entity)]) === undefined;
    }
    return (await this.createMany(work, accountId, [entity], options))[0];
  }

  /**
   * Inserts the entities whose key is new, in multi-row statements (a 2,000-row file is two
   * statements, not 2,000); for each, whether it was inserted. A key repeated among them is
   * inserted by its first occurrence, as one statement after another would.
   */
  async createMany(work: DirectoryWork, accountId: string, entities: readonly T[], options: WriteOptions = {}): Promise<boolean[]> {
    const spec = this.spec(work);
    const encode = (): string[] => entities.map((e) => this.data(spec, e, options.json));
    let data = encode();
    if (this.shapes && !await this.shapes.settle(work, true)) data = encode();
    const now = Date.now();
    const results: boolean[] = [];
    const width = this.all.length;
    const keyWidth = this.table.keyColumns.length;
    for (let start = 0; start < entities.length; start += ROWS_PER_INSERT) {
      const chunk = entities.slice(start, start + ROWS_PER_INSERT);
      const params: unknown[] = [];
      const tuples = chunk.map((entity, i) => {
        params.push(accountId, ...this.table.key(entity), ...this.table.values(entity), data[start + i], options.sourceFile ?? null, now, now);
        return `(${Array.from({ length: width }, (_, c) => `$${i * width + c + 1}`).join(', ')})`;
      });
      const inserted = await work.q.rows<Row>(`INSERT INTO ${this.table.table} (${this.all.join(', ')}) VALUES ${tuples.join(', ')}
        ON CONFLICT DO NOTHING RETURNING ${this.table.keyColumns.join(', ')}`, params);
      const fresh = new Set(inserted.map((r) => JSON.stringify(this.table.keyColumns.map((c) => r[c]))));
      for (const entity of chunk) {
        const key = JSON.stringify(this.table.key(entity).slice(0, keyWidth));
        // The first occurrence of a key takes the insert; the set forgets it so a repeat answers false.
        results.push(fresh.delete(key));
      }
    }
    return results;
  }

  /** SQLite's EntityTable.update: replaces the stored entity if it differs; undefined when no entity has the key. */
  async update(work: DirectoryWork, accountId: string, entity: T, options: WriteOptions = {}): Promise<ChangeKind | undefined> {
    if (options.keepPrevious && !options.dryRun) this.checkKeepPrevious(options);
    const spec = this.spec(work);
    const key = spec.key(entity);
    const existing = await work.q.row<Row>(`SELECT ${this.selected}, source_file, created_at, updated_at FROM ${this.table.table} WHERE ${this.where}`,
      [accountId, ...key]);
    if (existing === undefined) return undefined;
    await this.load(work, [existing]);
    if (spec.merge) entity = spec.merge(existing, entity);
    let data = this.data(spec, entity, options.json);
    if (this.shapes && !await this.shapes.settle(work, !options.dryRun)) data = this.data(spec, entity, options.json);
    const values = spec.values(entity);
    if (this.unchanged(spec, existing, entity, data, values)) return (await this.earlierAttemptChange(work, existing, options.sourceFile)) ?? 'unchanged';
    if (options.dryRun) return 'updated';
    if (options.keepPrevious) {
      const previous = JSON.stringify((await this.read(work, [existing]))[0]);
      // As EmployeeVersions.keep: a row another writer changed last is kept over the file's own; else the first kept stays.
      await work.q.run(`INSERT INTO dir_employee_versions (account_id, file_id, organization_code, registration_reference, data, kept_at)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, file_id, organization_code, registration_reference) DO ${existing.source_file !== options.sourceFile
    ? 'UPDATE SET data = excluded.data, kept_at = excluded.kept_at' : 'NOTHING'}`,
      [accountId, options.sourceFile, key[0], key[1], previous, Date.now()]);
    }
    const columns = [...spec.columns, 'data', 'source_file', 'updated_at'];
    const n = key.length + 1;
    await work.q.run(`UPDATE ${this.table.table} SET ${columns.map((c, i) => `${c} = $${n + i + 1}`).join(', ')} WHERE ${this.where}`,
      [accountId, ...key, ...values, data, options.sourceFile ?? null, Date.now()]);
    return 'updated';
  }

  async remove(work: DirectoryWork, accountId: string, key: unknown[]): Promise<boolean> {
    return await work.q.run(`DELETE FROM ${this.table.table} WHERE ${this.where}`, [accountId, ...key]) > 0;
  }

  private data(spec: TableSpec<T>, entity: T, json?: string): string {
    return spec.split ? spec.split.data(entity, true) : json ?? JSON.stringify(entity);
  }

  private async load(work: DirectoryWork, rows: Row[]): Promise<void> {
    for (const row of rows) if (typeof row.active === 'boolean') row.active = row.active ? 1 : 0;
    if (this.shapes) await this.shapes.load(work.q, rows);
  }

  private checkKeepPrevious(options: WriteOptions): void {
    if (!this.versions) {
      throw new FluxgateError('FG_PLUGIN_INVALID', `WriteOptions.keepPrevious is for employees only, not for ${this.table.table} writes`);
    }
    if (options.sourceFile === undefined) {
      throw new FluxgateError('FG_PLUGIN_INVALID', 'WriteOptions.keepPrevious needs sourceFile (the journal id of the file being applied)');
    }
  }

  /** SQLite's EntityTable.earlierAttemptChange. */
  private async earlierAttemptChange(work: DirectoryWork, existing: Row, sourceFile: string | undefined): Promise<'created' | 'updated' | undefined> {
    if (sourceFile === undefined || existing.source_file !== sourceFile) return undefined;
    const writtenAt = existing.updated_at as number;
    if (!await work.byEarlierAttempt(sourceFile, writtenAt)) return undefined;
    return existing.created_at === writtenAt ? 'created' : 'updated';
  }

  /** SQLite's EntityTable.unchanged. */
  private unchanged(spec: TableSpec<T>, existing: Row, entity: T, data: string, values: unknown[]): boolean {
    const { split } = spec;
    if (split && spec.columns.some((c, i) => existing[c] !== values[i])) return false;
    const stored = existing.data as string;
    if (stored === data) return true;
    return split ? split.same(stored, entity) : canonicalJson(JSON.parse(stored)) === canonicalJson(JSON.parse(data));
  }
}
