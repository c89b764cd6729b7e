import type { ChangeKind, WriteOptions } from '../../plugin-api/directory';
import { FluxgateError } from '../../errors';
import { canonicalJson } from '../../canonical-json';
import type { Row, TableSpec } from '../directory-tables';
import type { PgAttributeShapes, ShapeWork } from './directory-shapes';
import type { PoolClient } from 'pg';
import { asText, CASTS, keyText, PgRowInserter, textArray, type CopyRows } from './directory-insert';
import { Tx } from './pool';

/**
 * What one directory unit of work (a transaction) runs on: its connection and shapes, the
 * table specs bound to them, and the attempt times it read (no attempt starts during one).
 */
export interface DirectoryWork extends ShapeWork {
  /** Whether file `fileId` wrote at `writtenAt` during an earlier attempt (see SqliteDirectoryRows.byEarlierAttempt). */
  byEarlierAttempt(fileId: string, writtenAt: number): Promise<boolean>;
}

/**
 * Most rows in one multi-row INSERT: a sal batch (2,000) in one statement; a plugin's bigger
 * batch in several, so that the arrays' text stays a few megabytes.
 */
const ROWS_PER_INSERT = 5000;

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
  private readonly inserter: PgRowInserter;

  /**
   * `spec(work)`: the table's spec for a unit of work (employees encode their attributes into
   * its shapes). `shapes`: set for employees. `versions`: whether writes may keep the replaced row.
   */
  constructor(private readonly spec: (work: DirectoryWork) => TableSpec<T>, private readonly table: TableSpec<T>,
    private readonly shapes?: PgAttributeShapes, private readonly versions = false) {
    const keys = ['account_id', ...table.keyColumns];
    this.where = keys.map((c, i) => `${c} = $${i + 1}`).join(' AND ');
    this.selected = ['data', ...(table.split ? [...table.keyColumns, ...table.columns] : [])].join(', ');
    this.inserter = new PgRowInserter(table as TableSpec<unknown>);
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
   * Inserts the entities whose key is new, ROWS_PER_INSERT at a time (PgRowInserter: a 2,000-row
   * sal batch is one COPY, or one INSERT of 12 parameters over column arrays, where a VALUES list
   * of 26,000 parameters cost the server's main thread ~6 ms of SQL text and garbage per 1,000
   * rows); for each, whether it was inserted. A key repeated among them is inserted by its first
   * occurrence, as one statement after another would.
   */
  async createMany(work: DirectoryWork, accountId: string, entities: readonly T[], options: WriteOptions = {}): Promise<boolean[]> {
    const spec = this.spec(work);
    const now = Date.now();
    const results: boolean[] = [];
    for (let start = 0; start < entities.length; start += ROWS_PER_INSERT) {
      const chunk = entities.length <= ROWS_PER_INSERT ? entities : entities.slice(start, start + ROWS_PER_INSERT);
      if (await this.copyNew(work, spec, accountId, now, chunk, options)) {
        for (let i = 0; i < chunk.length; i++) results.push(true);
        continue;
      }
      const encode = (): string[] => chunk.map((e) => this.data(spec, e, options.json));
      let data = encode();
      if (this.shapes && !await this.shapes.settle(work, true)) data = encode();
      const { keyColumns, columns } = this.table;
      const count = chunk.length;
      const keys = keyColumns.map(() => new Array<string>(count));
      const values = columns.map(() => new Array<string | null>(count));
      for (let i = 0; i < count; i++) {
        const key = this.table.key(chunk[i]);
        for (let c = 0; c < keys.length; c++) keys[c][i] = key[c] as string;
        const row = this.table.values(chunk[i]);
        for (let c = 0; c < values.length; c++) values[c][i] = asText(row[c]);
      }
      const fresh = await this.inserter.insert(work.q, accountId, options.sourceFile ?? null, now, { keys, values, data });
      // The first occurrence of a key takes the insert; the set forgets it so a repeat answers false.
      for (let i = 0; i < count; i++) results.push(fresh.delete(keyText(this.table.key(chunk[i]))));
    }
    return results;
  }

  /**
   * The entities by COPY, when the inserter takes them that way (PgRowInserter.copies): each
   * encoded straight into the COPY's text, the shapes they name settled before it runs. True if
   * every one was inserted; false if not tried, or if a key was there (the COPY rolled back).
   */
  private async copyNew(work: DirectoryWork, spec: TableSpec<T>, accountId: string, now: number, entities: readonly T[], options: WriteOptions): Promise<boolean> {
    const { q } = work;
    if (!this.inserter.copies(entities.length) || !(q instanceof Tx)) return false;
    let copy = this.copyRows(work, spec, accountId, now, entities, options);
    if (this.shapes && !await this.shapes.settle(work, true)) {
      copy.text.reuse(); // never sent: its buffer serves the text encoded again
      copy = this.copyRows(work, spec, accountId, now, entities, options);
    }
    return this.inserter.copyAll(q, copy);
  }

  /**
   * createMany of entities that are all new, as one COPY on `client` outside a transaction (a
   * statement alone is atomic): for a batch that is nothing else, one round trip where a
   * transaction took five (BEGIN, SAVEPOINT, COPY, RELEASE, COMMIT). Undefined, nothing written,
   * when it cannot answer that way: too few or too many rows, a conflict met last, a shape not
   * yet in the table (inserted first, in a transaction), or a key already there; the caller then
   * runs createMany in a transaction.
   */
  async createAlone(work: DirectoryWork, client: PoolClient, accountId: string, entities: readonly T[], options: WriteOptions = {}): Promise<boolean[] | undefined> {
    if (entities.length > ROWS_PER_INSERT || !this.inserter.copies(entities.length)) return undefined;
    const copy = this.copyRows(work, this.spec(work), accountId, Date.now(), entities, options);
    if (work.pending.size > 0) {
      copy.text.reuse(); // never sent: the transaction's way encodes the rows again
      return undefined;
    }
    return await this.inserter.copyAlone(client, copy) ? entities.map(() => true) : undefined;
  }

  /** The entities as a COPY's rows (their shapes noted in `work`, to settle before it runs). */
  private copyRows(work: DirectoryWork, spec: TableSpec<T>, accountId: string, now: number, entities: readonly T[], options: WriteOptions): CopyRows {
    const copy = this.inserter.copyRows(accountId, options.sourceFile ?? null, now, entities.length);
    for (const entity of entities) copy.add(this.table.key(entity), this.table.values(entity), this.data(spec, entity, options.json));
    return copy;
  }

  /** SQLite's EntityTable.update: replaces the stored entity if it differs; undefined when no entity has the key. */
  async update(work: DirectoryWork, accountId: string, entity: T, options: WriteOptions = {}): Promise<ChangeKind | undefined> {
    return (await this.updateMany(work, accountId, [entity], options))[0];
  }

  /**
   * `update` of each entity (their keys all different), in a few statements whatever their
   * number: one SELECT of the stored rows, the shapes, then at most two multi-row INSERTs of
   * kept versions and one multi-row UPDATE. Each answers as `update` would, one after another.
   */
  async updateMany(work: DirectoryWork, accountId: string, entities: readonly T[], options: WriteOptions = {}): Promise<Array<ChangeKind | undefined>> {
    if (options.keepPrevious && !options.dryRun) this.checkKeepPrevious(options);
    const spec = this.spec(work);
    const keyColumns = this.table.keyColumns;
    const keys = entities.map((e) => spec.key(e));
    const stored = await work.q.rows<Row>(`SELECT ${this.selected}, ${keyColumns.map((c) => `${c} AS "key:${c}"`).join(', ')}, source_file, created_at, updated_at
      FROM ${this.table.table} WHERE account_id = $1 AND (${keyColumns.join(', ')}) IN (SELECT * FROM unnest(${keyColumns.map((_, i) => `$${i + 2}::text[]`).join(', ')}))`,
    [accountId, ...keyColumns.map((_, c) => textArray(keys.map((k) => k[c] as string)))]);
    await this.load(work, stored);
    const byKey = new Map(stored.map((r) => [JSON.stringify(keyColumns.map((c) => r[`key:${c}`])), r]));
    const existing = keys.map((k) => byKey.get(JSON.stringify(k)));
    const merged = entities.map((e, i) => (existing[i] !== undefined && spec.merge ? spec.merge(existing[i], e) : e));
    const encode = (): string[] => merged.map((e, i) => (existing[i] === undefined ? '' : this.data(spec, e, options.json)));
    let data = encode();
    if (this.shapes && !await this.shapes.settle(work, !options.dryRun)) data = encode();

    const answers: Array<ChangeKind | undefined> = [];
    const changed: number[] = [];
    for (let i = 0; i < entities.length; i++) {
      const row = existing[i];
      if (row === undefined) { answers.push(undefined); continue; }
      if (this.unchanged(spec, row, merged[i], data[i], spec.values(merged[i]))) {
        answers.push((await this.earlierAttemptChange(work, row, options.sourceFile)) ?? 'unchanged');
        continue;
      }
      answers.push('updated');
      if (!options.dryRun) changed.push(i);
    }
    if (changed.length === 0) return answers;
    const now = Date.now();
    if (options.keepPrevious) await this.keepVersions(work, accountId, options.sourceFile!, changed.map((i) => ({ key: keys[i], row: existing[i]! })), now);
    const columns = [...this.table.columns, 'data'];
    const set = [...columns.map((c) => `${c} = v.${c}${CASTS[c] ?? ''}`), `source_file = $${columns.length + keyColumns.length + 2}`, `updated_at = $${columns.length + keyColumns.length + 3}`];
    const arrays = [
      ...keyColumns.map((_, c) => changed.map((i) => keys[i][c] as string)),
      ...this.table.columns.map((_, c) => changed.map((i) => asText(spec.values(merged[i])[c]))),
      changed.map((i) => data[i]),
    ];
    const names = [...keyColumns.map((c) => `k_${c}`), ...columns];
    await work.q.run(`UPDATE ${this.table.table} AS t SET ${set.join(', ')}
      FROM unnest(${names.map((_, i) => `$${i + 2}::text[]`).join(', ')}) AS v(${names.join(', ')})
      WHERE t.account_id = $1 AND ${keyColumns.map((c) => `t.${c} = v.k_${c}`).join(' AND ')}`,
    [accountId, ...arrays.map(textArray), options.sourceFile ?? null, now]);
    return answers;
  }

  /**
   * As EmployeeVersions.keep, for several rows: a row another writer changed last is kept over
   * what the file kept; a row the file wrote itself leaves the version kept first.
   */
  private async keepVersions(work: DirectoryWork, accountId: string, fileId: string, rows: Array<{ key: unknown[]; row: Row }>, now: number): Promise<void> {
    const entities = await this.read(work, rows.map((r) => r.row));
    for (const over of [true, false]) {
      const picked = rows.map((r, i) => ({ ...r, json: JSON.stringify(entities[i]) })).filter((r) => (r.row.source_file !== fileId) === over);
      if (picked.length === 0) continue;
      await work.q.run(`INSERT INTO dir_employee_versions (account_id, file_id, organization_code, registration_reference, data, kept_at)
        SELECT $1, $2, o, r, d, $6 FROM unnest($3::text[], $4::text[], $5::text[]) AS v(o, r, d)
        ON CONFLICT (account_id, file_id, organization_code, registration_reference) DO ${over ? 'UPDATE SET data = excluded.data, kept_at = excluded.kept_at' : 'NOTHING'}`,
      [accountId, fileId, textArray(picked.map((p) => p.key[0] as string)), textArray(picked.map((p) => p.key[1] as string)), textArray(picked.map((p) => p.json)), now]);
    }
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
