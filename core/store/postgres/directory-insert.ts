import type { Row, TableSpec } from '../directory-tables';
import { CopyText, copyField, copyIn } from './copy-in';
import type { PoolClient } from 'pg';
import type { Tx, Queryable } from './pool';

/** Columns that are not TEXT, cast from the text arrays of a multi-row INSERT or UPDATE. */
export const CASTS: Record<string, string> = { active: '::boolean', size: '::bigint' };

/** A column value as text (SQLite's 1/0 for `active` reads as a PostgreSQL boolean). */
export const asText = (v: unknown): string | null => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v === null || v === undefined ? null : JSON.stringify(v);
};

/** A key's columns as one string (text holds no NUL in PostgreSQL). */
export const keyText = (key: readonly unknown[]): string => key.join('\u0000');

/** An escape in JSON text other than `\"` and `\\` (a control character, a lone surrogate); may also match an escaped backslash's neighbour, which is only slower. */
const OTHER_ESCAPE = /\\[^"\\]/;

/**
 * A text[] parameter in PostgreSQL's array literal: JSON.stringify's text of the array is one
 * (`{` `}` for `[` `]`, `null` read as NULL, `\"` and `\\` the same escapes) when it escapes
 * nothing else, and costs a third of what node-postgres's quoting does per element (~0.5 s of
 * the main thread for a 200,000-row file); otherwise the array itself, for node-postgres to quote.
 */
export function textArray(values: ReadonlyArray<string | null>): string | ReadonlyArray<string | null> {
  const json = JSON.stringify(values);
  return OTHER_ESCAPE.test(json) ? values : `{${json.slice(1, -1)}}`;
}

/** Fewer rows than this go as a VALUES list with ON CONFLICT at once: a savepoint's and a COPY's round trips cost more than they save. */
const PLAIN_FIRST_ROWS = 100;
/** unique_violation */
const UNIQUE_VIOLATION = '23505';

/** Rows to insert as column arrays: one per key column, one per column, and `data`; all the same length. */
export interface RowArrays { keys: string[][]; values: Array<Array<string | null>>; data: string[] }

/**
 * The multi-row INSERT of PgEntityTable.createMany. Fewer than PLAIN_FIRST_ROWS rows: a VALUES
 * list with ON CONFLICT DO NOTHING. More, one of two ways.
 *
 * ON CONFLICT DO NOTHING makes PostgreSQL search the primary key for each row before inserting
 * it, and log a confirmation record per row (speculative insertion); an INSERT … SELECT inserts
 * row by row. A batch of new keys (a first load, new hires) needs neither: a big batch is first
 * COPied (its rows written in blocks, as a plain INSERT cannot) under a savepoint (copyAll), or
 * alone outside a transaction when the batch is nothing else (copyAlone), which for a sal file
 * of new employees costs PostgreSQL about half the CPU of the ON CONFLICT statement. A key
 * already there fails the COPY (unique_violation): it rolls back to the savepoint (alone: the
 * failed statement left nothing, and the caller runs the batch in a transaction) and runs
 * the ON CONFLICT statement, one INSERT over column arrays (unnest) whatever the number of rows;
 * the table then keeps using that statement at once until a batch inserts every row again (a file
 * of known employees pays the failed COPY once, not per batch).
 *
 * The caller asks `copies` first: if so it adds the rows to `copyRows` (no column arrays: a row
 * is encoded into the COPY's buffer as it is read, and its strings die young) and runs `copyAll`
 * (in a transaction) or `copyAlone`;
 * if that met a key already there, or was not asked, it calls `insert` with the column arrays.
 */
export class PgRowInserter {
  private readonly copy: string;
  private readonly insertInto: string;
  private readonly skipping: string;
  /** The last big batch met keys already there. Shared by accounts: only decides which statement goes first. */
  private conflicts = false;
  /** Bytes per row of the last COPY: the next one's buffer is sized from it (a guess; it grows when short). */
  private bytesPerRow = 512;

  constructor(private readonly table: TableSpec<unknown>) {
    const arrays = [...table.keyColumns, ...table.columns, 'data'];
    const all = `account_id, ${arrays.join(', ')}, source_file, created_at, updated_at`;
    this.copy = `COPY ${table.table} (${all}) FROM STDIN`;
    this.insertInto = `INSERT INTO ${table.table} (${all})`;
    this.skipping = `${this.insertInto}
      SELECT $1::text, ${arrays.map((c) => `v.${c}${CASTS[c] ?? ''}`).join(', ')}, $2::text, $3::bigint, $3::bigint
      FROM unnest(${arrays.map((_, i) => `$${i + 4}::text[]`).join(', ')}) AS v(${arrays.join(', ')})
      ON CONFLICT DO NOTHING RETURNING ${table.keyColumns.join(', ')}`;
  }

  /** Whether `count` rows to insert go by COPY first (copyRows, then copyAll or copyAlone): enough rows, no conflict met last. */
  copies(count: number): boolean {
    return count >= PLAIN_FIRST_ROWS && !this.conflicts;
  }

  /** An empty COPY of `count` rows of one account, file and time, to `add` them to. */
  copyRows(accountId: string, sourceFile: string | null, now: number, count: number): CopyRows {
    return new CopyRows(new CopyText(count * this.bytesPerRow * 1.1), `${copyField(accountId)}\t`, `\t${copyField(sourceFile)}\t${now}\t${now}\n`);
  }

  /**
   * Inserts the rows whose key is new (`q`: a transaction's connection, or the pool's); the keys
   * (keyText) it inserted. A key repeated among the rows is inserted by its first occurrence (the
   * arrays are read in order), as one statement after another would.
   */
  async insert(q: Queryable, accountId: string, sourceFile: string | null, now: number, rows: RowArrays): Promise<Set<string>> {
    const count = rows.data.length;
    const inserted = count < PLAIN_FIRST_ROWS ? await q.rows<Row>(...this.valuesStatement(accountId, sourceFile, now, rows))
      : await q.rows<Row>(this.skipping, [accountId, sourceFile, now, ...rows.keys.map(textArray), ...rows.values.map(textArray), textArray(rows.data)]);
    if (count >= PLAIN_FIRST_ROWS) this.conflicts = inserted.length < count;
    return new Set(inserted.map((r) => keyText(this.table.keyColumns.map((c) => r[c]))));
  }

  /**
   * A few rows (single writes, upserts) as a VALUES list: PostgreSQL plans one row over unnest
   * in ~0.25 ms of CPU against ~0.09 ms for a VALUES row (4,000 single inserts, alternated).
   */
  private valuesStatement(accountId: string, sourceFile: string | null, now: number, rows: RowArrays): [string, unknown[]] {
    const columns: Array<ReadonlyArray<string | null>> = [...rows.keys, ...rows.values, rows.data];
    const params: unknown[] = [];
    const tuples = rows.data.map((_, i) => {
      const at = params.length;
      params.push(accountId, ...columns.map((c) => c[i]), sourceFile, now, now);
      return `(${Array.from({ length: params.length - at }, (_, c) => `$${at + c + 1}`).join(', ')})`;
    });
    return [`${this.insertInto} VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING RETURNING ${this.table.keyColumns.join(', ')}`, params];
  }

  /** The COPY in transaction `tx`: true if every row went in; false, rolled back to the savepoint, if a key was there already. */
  async copyAll(tx: Tx, rows: CopyRows): Promise<boolean> {
    await tx.run('SAVEPOINT fg_insert_all');
    if (!await this.copyOrConflict(tx.client, rows)) {
      await tx.run('ROLLBACK TO SAVEPOINT fg_insert_all');
      return false;
    }
    await tx.run('RELEASE SAVEPOINT fg_insert_all');
    return true;
  }

  /**
   * The COPY as a statement of its own, outside any transaction (`client` in autocommit): one
   * statement is atomic, and committed (flushed, synchronous_commit as configured) before
   * PostgreSQL answers. True if every row went in; false, nothing written, if a key was there already.
   */
  copyAlone(client: PoolClient, rows: CopyRows): Promise<boolean> {
    return this.copyOrConflict(client, rows);
  }

  private async copyOrConflict(client: PoolClient, rows: CopyRows): Promise<boolean> {
    const { text } = rows;
    if (text.rows > 0) this.bytesPerRow = text.byteLength / text.rows;
    try {
      await copyIn(client, this.copy, text);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      this.conflicts = true;
      return false;
    }
  }
}

/** Room for a column's value in COPY's text (before escapes): its text, or `\N`. */
const unitsOf = (v: unknown): number => (typeof v === 'string' ? v.length : asText(v)?.length ?? 2);

/** The rows of one COPY, in the COPY statement's column order (PgRowInserter.copyRows). */
export class CopyRows {
  private readonly fixedUnits: number;

  constructor(readonly text: CopyText, private readonly prefix: string, private readonly suffix: string) {
    this.fixedUnits = prefix.length + suffix.length;
  }

  /** One row: its key columns, its other columns (as the table spec gives them), its `data`; each field written to the buffer as it is (no string for the row). */
  add(key: readonly unknown[], values: readonly unknown[], data: string): void {
    let units = this.fixedUnits + data.length;
    for (let c = 0; c < key.length; c++) units += unitsOf(key[c]) + 1;
    for (let c = 0; c < values.length; c++) units += unitsOf(values[c]) + 1;
    const { text } = this;
    text.reserve(units);
    text.write(this.prefix);
    for (let c = 0; c < key.length; c++) text.field(key[c] as string);
    for (let c = 0; c < values.length; c++) text.field(asText(values[c]));
    text.field(data, false);
    text.write(this.suffix);
    text.endRow();
  }
}
