import { createHash } from 'node:crypto';
import { FluxgateError } from '../../errors';
import type { Attributes } from '../../plugin-api/directory';
import { decodeAttributes, shapedRow } from '../attribute-shapes';
import type { Queryable } from './pool';

/** A key list and its id (a hash of its text: SQLite's AttributeShapes computes the same ids). */
interface Shape { readonly id: string; readonly keys: readonly string[]; readonly text: string }

/**
 * What one unit of work (a transaction) did with shapes: those it encoded and must make sure
 * of before its rows are written, and those it made sure of (inserted or seen), which count as
 * committed only once the transaction has (a rolled-back insert leaves no row).
 */
export class ShapeWork {
  readonly pending = new Map<string, Shape>();
  readonly ensured = new Set<string>();
  constructor(readonly q: Queryable) {}
}

/** Key of the transaction advisory lock taken to insert new shapes ("flux", 4; migrate.ts and copy.ts hold 1 and 2). */
const NEW_SHAPES_LOCK_KEY = 0x666c7578_04;

/** Stored data in the shaped form starts with `["<id>"`. */
const SHAPED_ID = /^\["([^"]+)"/;

/**
 * Employee attributes in the shaped form (core/store/attribute-shapes.ts) on PostgreSQL:
 * `["<shape id>", v1, …]`, the key list stored once in dir_attribute_shapes. Encoding is
 * synchronous (the spec of core/store/directory-tables.ts calls it); the shapes a write names
 * are inserted by `settle` before the write's statement, in its transaction. Reading needs the
 * key lists in memory: `load` fetches those a set of rows names before they are decoded.
 */
export class PgAttributeShapes {
  private readonly byText = new Map<string, Shape>();
  /** Key lists as the table holds them (shapes are never changed or deleted). */
  private readonly keysById = new Map<string, readonly string[]>();
  /** Shapes seen in the table after a commit: no need to insert them again. */
  private readonly committed = new Set<string>();
  /** Ids that hold another key list than ours (a hash collision): such attributes are stored as plain JSON. */
  private readonly unusable = new Set<string>();
  /** The previous encode's shape: a big file encodes one shape thousands of times. */
  private last?: Shape;

  /** The stored text of `attributes`, noting in `work` the shape to settle before writing. */
  encode(attributes: Attributes, work: ShapeWork): string {
    const { shape, values } = shapedRow(attributes, this.last, (keys) => this.shapeOf(keys));
    this.last = shape;
    if (this.unusable.has(shape.text)) return JSON.stringify(attributes);
    if (!this.committed.has(shape.id) && !work.ensured.has(shape.id)) work.pending.set(shape.id, shape);
    return JSON.stringify(values);
  }

  /**
   * Inserts the shapes `work` encoded since the last call (one statement), or, in a dry run
   * (`persist` false), only reads them. False if one of them turned out to collide with another
   * key list: the caller encodes again (now plain JSON for that one).
   */
  async settle(work: ShapeWork, persist: boolean): Promise<boolean> {
    if (work.pending.size === 0) return true;
    const shapes = [...work.pending.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    work.pending.clear();
    const ids = shapes.map((s) => s.id);
    if (persist) {
      const present = new Set((await work.q.rows<{ id: string }>('SELECT id FROM dir_attribute_shapes WHERE id = ANY($1)', [ids])).map((r) => r.id));
      const missing = shapes.filter((s) => !present.has(s.id));
      if (missing.length > 0) {
        // One lock, held to commit, for every transaction inserting new shapes: a batch settles its
        // shapes run by run, so two batches naming the same new shapes in other orders locked them
        // crosswise, and deadlocked again on each retry while the other still ran.
        await work.q.run('SELECT pg_advisory_xact_lock($1)', [NEW_SHAPES_LOCK_KEY]);
        await work.q.run(`INSERT INTO dir_attribute_shapes (id, keys) SELECT * FROM unnest($1::text[], $2::text[])
          ON CONFLICT DO NOTHING`, [missing.map((s) => s.id), missing.map((s) => s.text)]);
      }
    }
    const stored = new Map((await work.q.rows<{ id: string; keys: string }>('SELECT id, keys FROM dir_attribute_shapes WHERE id = ANY($1)', [ids]))
      .map((r) => [r.id, r.keys]));
    let usable = true;
    for (const shape of shapes) {
      const text = stored.get(shape.id);
      if (text === undefined) continue; // a dry run's new shape: nothing stored to compare with
      this.keysById.set(shape.id, JSON.parse(text) as string[]);
      if (text !== shape.text) {
        this.unusable.add(shape.text);
        usable = false;
      } else if (persist) work.ensured.add(shape.id);
    }
    return usable;
  }

  /** After the unit of work committed: what it made sure of is in the table for good. */
  committedWork(work: ShapeWork): void {
    for (const id of work.ensured) this.committed.add(id);
  }

  /** Fetches the key lists the rows' `data` names that are not in memory yet. */
  async load(q: Queryable, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const missing = new Set<string>();
    for (const row of rows) {
      const id = SHAPED_ID.exec(row.data as string)?.[1];
      if (id !== undefined && !this.keysById.has(id)) missing.add(id);
    }
    if (missing.size === 0) return;
    for (const r of await q.rows<{ id: string; keys: string }>('SELECT id, keys FROM dir_attribute_shapes WHERE id = ANY($1)', [[...missing]])) {
      this.keysById.set(r.id, JSON.parse(r.keys) as string[]);
    }
  }

  /** Attributes back from their stored text (its shape loaded first: `load`). */
  decode(data: string): Attributes {
    return decodeAttributes(data, (id) => {
      const keys = this.keysById.get(id);
      if (!keys) throw new FluxgateError('FG_INTERNAL', `the directory names attribute shape ${id}, which dir_attribute_shapes does not hold`);
      return keys;
    });
  }

  private shapeOf(keys: readonly string[]): Shape {
    const text = JSON.stringify(keys);
    let shape = this.byText.get(text);
    if (!shape) {
      // As SQLite's AttributeShapes: the first 8 characters of the base64url SHA-256 of the key list's JSON.
      shape = { id: createHash('sha256').update(text).digest('base64url').slice(0, 8), keys, text };
      this.byText.set(text, shape);
    }
    return shape;
  }
}
