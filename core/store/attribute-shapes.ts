import { createHash } from 'node:crypto';
import { FluxgateError } from '../errors';
import type { Attributes } from '../plugin-api/directory';
import type { Database } from './database';

/** A key list, named by a hash of its text: two processes that add the same shape agree without asking each other. */
interface Shape {
  readonly id: string;
  readonly keys: readonly string[];
  /** JSON of `keys`, as stored. */
  readonly text: string;
  /** False if another key list already holds this id (a hash collision): such attributes are stored as plain JSON. */
  usable: boolean;
  /** The table was seen to hold this id with these keys (shapes are never deleted or changed). */
  verified: boolean;
}

/** Stored data in the shaped form starts with `[` (a JSON array); anything else is a plain JSON object. */
const SHAPED = 0x5b;

/** Attributes back from their stored text, shaped or plain, given the key list of a shape id (any engine's). */
export function decodeAttributes(data: string, keysOf: (shapeId: string) => readonly string[]): Attributes {
  if (data.charCodeAt(0) !== SHAPED) return JSON.parse(data) as Attributes;
  const values = JSON.parse(data) as unknown[];
  const keys = keysOf(values[0] as string);
  const attributes: Attributes = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = values[i + 1] as Attributes[string];
    if (key === '__proto__') Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
    else attributes[key] = value;
  }
  return attributes;
}

/**
 * The shape of `attributes` and their shaped row `["<shape id>", v1, …, vn]` (any engine's).
 * `last`, the previous row's shape, is kept when the keys come in the same order: a big file
 * encodes one shape thousands of times, and comparing key by key costs less than a key list's
 * JSON per row.
 */
export function shapedRow<S extends { readonly id: string; readonly keys: readonly string[] }>(
  attributes: Attributes, last: S | undefined, shapeOf: (keys: readonly string[]) => S,
): { shape: S; values: unknown[] } {
  let shape = last;
  const values: unknown[] = [shape?.id];
  let n = 0;
  let same = shape !== undefined;
  for (const key in attributes) {
    if (same && shape!.keys[n] !== key) same = false;
    values.push(attributes[key]);
    n++;
  }
  if (!same || n !== shape!.keys.length) {
    // Own keys only, as JSON.stringify would (for...in above also sees inherited ones).
    const keys = Object.keys(attributes);
    shape = shapeOf(keys);
    values.length = 1;
    for (const key of keys) values.push(attributes[key]);
    values[0] = shape.id;
  }
  return { shape: shape!, values };
}

/**
 * Employee attributes in a compact form (migration 006): `["<shape id>", v1, …, vn]`, where the
 * shape, stored once in dir_attribute_shapes, names the keys in order. Repeating every key in
 * every row made the attributes about 370 of the 460 bytes a sal row wrote (135 now), and what
 * SQLite spends writing, committing and checkpointing grows with the bytes. Rows written before
 * 006 keep their JSON object and read the same; they take the shaped form when next written.
 *
 * A shape row must exist before any row that names it commits, so each write transaction
 * inserts (or checks) the shapes it uses once: a shape inserted by a transaction that rolled
 * back is inserted again by the next one. Ids are content hashes, so a stale id can only be
 * missing, never name another key list.
 */
export class AttributeShapes {
  private readonly byText = new Map<string, Shape>();
  /** The same shapes by the names lists of flat rows (encodeValues). */
  private readonly byKeys = new WeakMap<readonly string[], Shape>();
  /** Key lists as the table holds them. */
  private readonly keysById = new Map<string, readonly string[]>();
  /** Shapes inserted or checked in the current transaction (SqliteDirectoryRows.transaction). */
  private readonly ensured = new Set<string>();
  private depth = 0;
  /** The previous write's shape: big files write one shape thousands of times. */
  private last?: Shape;
  private readonly insert;
  private readonly select;

  constructor(db: Database) {
    this.insert = db.prepare('INSERT OR IGNORE INTO dir_attribute_shapes (id, keys) VALUES (?, ?)');
    this.select = db.prepare('SELECT keys FROM dir_attribute_shapes WHERE id = ?').pluck();
  }

  /**
   * The stored text of `attributes`. `persist`: make sure the shape is in the table (false for
   * dry runs, which write nothing and only compare).
   */
  encode(attributes: Attributes, persist = true): string {
    const { shape, values } = shapedRow(attributes, this.last, (keys) => this.shapeOf(keys));
    this.last = shape;
    if (!(persist ? this.ensure(shape) : this.check(shape))) return JSON.stringify(attributes);
    return JSON.stringify(values);
  }

  /**
   * encode for rows another connection writes (the directory's writer thread), without touching
   * the table here: each shape this connection has not seen in the table goes into `needed`
   * (id → key list's JSON) for that connection to insert in its transaction (insertShapes).
   */
  encodeDeferred(attributes: Attributes, needed: Map<string, string>): string {
    const { shape, values } = shapedRow(attributes, this.last, (keys) => this.shapeOf(keys));
    this.last = shape;
    if (!shape.usable) return JSON.stringify(attributes);
    if (!shape.verified) needed.set(shape.id, shape.text);
    return JSON.stringify(values);
  }

  /** The shapes of `needed` are in the table (another connection's transaction committed them). */
  storedElsewhere(needed: ReadonlyMap<string, string>): void {
    for (const text of needed.values()) {
      const shape = this.byText.get(text);
      if (shape?.usable) this.verify(shape);
    }
  }

  /**
   * The writer thread's side of encodeDeferred, in its transaction: inserts each shape, or checks
   * the one there; a shape id holding another key list (a hash collision) throws
   * FG_INTERNAL with `details.shapeCollision`, and the caller writes the batch its own way.
   */
  insertShapes(needed: ReadonlyArray<readonly [id: string, text: string]>): void {
    for (const [id, text] of needed) {
      if (this.insert.run(id, text).changes > 0) continue;
      const stored = this.select.get(id) as string;
      if (stored !== text) throw new FluxgateError('FG_INTERNAL', `attribute shape ${id} holds another key list`, { shapeCollision: id });
    }
  }

  /**
   * encode for attributes given as their names and, from `values[from]`, their values (a flat
   * row, employee-rows.ts), not a dry run; undefined when the shape is unusable (a hash
   * collision: the caller stores plain JSON). A batch's rows share one names list: looked up by identity.
   */
  encodeValues(keys: readonly string[], values: readonly unknown[], from: number): string | undefined {
    let shape = this.byKeys.get(keys);
    if (!shape) this.byKeys.set(keys, shape = this.shapeOf([...keys]));
    if (!this.ensure(shape)) return undefined;
    // One copy, the slot before the first value taking the shape id: ["<id>", v1, …, vn].
    const list = values.slice(from - 1, from + keys.length);
    list[0] = shape.id;
    return JSON.stringify(list);
  }

  /** Attributes back from their stored text, shaped or plain. */
  decode(data: string): Attributes {
    return decodeAttributes(data, (id) => this.keysOf(id));
  }

  /**
   * Runs `fn` (a SqliteDirectoryRows transaction): shapes checked inside it count as present
   * until it ends. If it throws, what it inserted may be rolled back, so all are checked again.
   */
  within<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } catch (err) {
      this.ensured.clear();
      throw err;
    } finally {
      if (--this.depth === 0) this.ensured.clear();
    }
  }

  private shapeOf(keys: readonly string[]): Shape {
    const text = JSON.stringify(keys);
    let shape = this.byText.get(text);
    if (!shape) {
      shape = { id: createHash('sha256').update(text).digest('base64url').slice(0, 8), keys, text, usable: true, verified: false };
      this.byText.set(text, shape);
    }
    return shape;
  }

  /** Makes sure the shape's row is in the table; false if its id holds other keys. */
  private ensure(shape: Shape): boolean {
    if (!shape.usable) return false;
    if (this.ensured.has(shape.id)) return true;
    if (this.insert.run(shape.id, shape.text).changes === 0 && !shape.verified) this.compare(shape, this.select.get(shape.id) as string);
    if (!shape.usable) return false;
    this.verify(shape);
    // Outside a repository transaction each write checks again: nothing tells when an outer one ends.
    if (this.depth > 0) this.ensured.add(shape.id);
    return true;
  }

  /** For dry runs, without writing: false if the shape's id holds other keys. */
  private check(shape: Shape): boolean {
    if (shape.usable && !shape.verified) {
      const stored = this.select.get(shape.id) as string | undefined;
      if (stored !== undefined) this.compare(shape, stored);
      if (shape.usable && stored !== undefined) this.verify(shape);
    }
    return shape.usable;
  }

  private compare(shape: Shape, stored: string): void {
    if (stored === shape.text) return;
    shape.usable = false;
    this.keysById.set(shape.id, JSON.parse(stored) as string[]);
  }

  private verify(shape: Shape): void {
    shape.verified = true;
    this.keysById.set(shape.id, shape.keys);
  }

  private keysOf(id: string): readonly string[] {
    let keys = this.keysById.get(id);
    if (!keys) {
      const text = this.select.get(id) as string | undefined;
      if (text === undefined) {
        throw new FluxgateError('FG_INTERNAL', `the directory names attribute shape ${id}, which dir_attribute_shapes does not hold`);
      }
      keys = JSON.parse(text) as string[];
      this.keysById.set(id, keys);
    }
    return keys;
  }
}
