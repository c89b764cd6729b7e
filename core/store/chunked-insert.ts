import { FluxgateError } from '../errors';
import type { Database } from './database';

/**
 * Rows per multi-row INSERT. One statement per row spent about a third of a sal file's INSERT
 * CPU on running the statement rather than on writing the row (docs/store.md); 16 rows of 13
 * parameters stay far below SQLite's limit on parameters.
 */
export const CHUNK_ROWS = 16;

/**
 * `INSERT OR IGNORE` of new keys into a rowid table, CHUNK_ROWS rows per statement, answering
 * per row whether its key was new exactly as one `INSERT OR IGNORE` per row (`one`) does.
 *
 * Why OR IGNORE and not a plain INSERT falling back on a conflict: a statement that can fail
 * part way makes SQLite keep a statement journal, which better-sqlite3's build writes to a
 * temporary file (six times the write syscalls of the rows themselves). What was ignored is
 * told from the statement's change count: all rows inserted, or none, is the answer; in
 * between (a chunk mixing new and known keys) the statement's rows are deleted again and the
 * chunk goes one row at a time. They are the last `changes` rowids: SQLite numbers a new row
 * one above the table's highest rowid.
 */
export class ChunkedInsert {
  private readonly many;
  private readonly undo;

  /** `columns`: the INSERT's columns, in the order each row's parameters come. */
  constructor(private readonly db: Database, private readonly table: string, columns: readonly string[], private readonly one: (params: unknown[]) => boolean) {
    const row = `(${columns.map(() => '?').join(', ')})`;
    this.many = db.prepare(`INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: CHUNK_ROWS }, () => row).join(', ')}`);
    this.undo = db.prepare(`DELETE FROM ${table} WHERE rowid > ? AND rowid <= ?`);
  }

  /**
   * Inserts `rows` rows (`params`: each row's parameters after the previous row's) and sets
   * `results[offset + r]` to whether row r's key was new. Fewer than CHUNK_ROWS rows go one by
   * one, and so do rows outside a transaction (a mixed chunk's undo must be able to roll back).
   */
  insert(params: unknown[], rows: number, results: unknown[], offset: number): void {
    if (rows === CHUNK_ROWS && this.db.inTransaction) {
      // Spread, not one array: better-sqlite3 reads an array element by element through V8's generic lookup.
      const { changes, lastInsertRowid } = this.many.run(...params);
      if (changes === rows || changes === 0) {
        for (let r = 0; r < rows; r++) results[offset + r] = changes > 0;
        return;
      }
      const last = Number(lastInsertRowid);
      const undone = this.undo.run(last - changes, last).changes;
      if (undone !== changes) {
        // Thrown in the caller's transaction, which rolls back: nothing is lost.
        throw new FluxgateError('FG_INTERNAL', `${this.table}: ${changes} rows inserted, ${undone} found under the last rowids (rowids past the highest possible?)`);
      }
    }
    const width = params.length / rows;
    for (let r = 0; r < rows; r++) results[offset + r] = this.one(params.slice(r * width, (r + 1) * width));
  }
}
