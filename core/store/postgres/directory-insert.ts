import type { Row, TableSpec } from '../directory-tables';
import type { Queryable } from './pool';

/** Columns that are not TEXT, cast from the text arrays of a multi-row INSERT or UPDATE. */
export const CASTS: Record<string, string> = { active: '::boolean', size: '::bigint' };

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

/** Fewer rows than this try ON CONFLICT at once: a savepoint's two round trips cost more than its check saves. */
const PLAIN_FIRST_ROWS = 100;
/** unique_violation */
const UNIQUE_VIOLATION = '23505';

/** Rows to insert as column arrays: one per key column, one per column, and `data`; all the same length. */
export interface RowArrays { keys: string[][]; values: Array<Array<string | null>>; data: string[] }

/**
 * The multi-row INSERT of PgEntityTable.createMany: one statement over column arrays (unnest),
 * whatever the number of rows, so that its text and plan are the same for every batch.
 *
 * ON CONFLICT DO NOTHING makes PostgreSQL search the primary key for each row before inserting
 * it, and log a confirmation record per row (speculative insertion): about a quarter of its CPU
 * for a sal file of new employees. A batch of new keys (a first load, new hires) does not need
 * it, so a big batch first tries a plain INSERT under a savepoint; a key already there fails it
 * (unique_violation), it rolls back to the savepoint and runs again with ON CONFLICT, and the
 * table keeps using ON CONFLICT at once until a batch inserts every row again (a file of known
 * employees pays the failed try once, not per batch).
 */
export class PgRowInserter {
  private readonly plain: string;
  private readonly skipping: string;
  /** The last big batch met keys already there. Shared by accounts: only decides which statement goes first. */
  private conflicts = false;

  constructor(private readonly table: TableSpec<unknown>) {
    const arrays = [...table.keyColumns, ...table.columns, 'data'];
    this.plain = `INSERT INTO ${table.table} (account_id, ${arrays.join(', ')}, source_file, created_at, updated_at)
      SELECT $1::text, ${arrays.map((c) => `v.${c}${CASTS[c] ?? ''}`).join(', ')}, $2::text, $3::bigint, $3::bigint
      FROM unnest(${arrays.map((_, i) => `$${i + 4}::text[]`).join(', ')}) AS v(${arrays.join(', ')})`;
    this.skipping = `${this.plain}
      ON CONFLICT DO NOTHING RETURNING ${table.keyColumns.join(', ')}`;
  }

  /**
   * Inserts the rows whose key is new (`q`: a transaction's connection); the keys (keyText) it
   * inserted, or 'all' (every row, their keys all different). A key repeated among the rows is inserted by its first occurrence (the arrays are
   * read in order), as one statement after another would.
   */
  async insert(q: Queryable, accountId: string, sourceFile: string | null, now: number, rows: RowArrays): Promise<Set<string> | 'all'> {
    const params = [accountId, sourceFile, now, ...rows.keys.map(textArray), ...rows.values.map(textArray), textArray(rows.data)];
    const count = rows.data.length;
    if (count >= PLAIN_FIRST_ROWS && !this.conflicts && await this.insertAll(q, params)) return 'all';
    const inserted = await q.rows<Row>(this.skipping, params);
    this.conflicts = inserted.length < count;
    return new Set(inserted.map((r) => keyText(this.table.keyColumns.map((c) => r[c]))));
  }

  /** The plain INSERT: true if every row went in; false, rolled back to the savepoint, if a key was there already. */
  private async insertAll(q: Queryable, params: unknown[]): Promise<boolean> {
    await q.run('SAVEPOINT fg_insert_all');
    try {
      await q.run(this.plain, params);
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await q.run('ROLLBACK TO SAVEPOINT fg_insert_all');
      this.conflicts = true;
      return false;
    }
    await q.run('RELEASE SAVEPOINT fg_insert_all');
    return true;
  }
}
