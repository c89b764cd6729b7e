import { FluxgateError } from '../errors';
import { ABSENT_FIELDS, type AbsentFields, type Attributes, type Employee, type WriteOptions } from '../plugin-api/directory';
import { EMPLOYEE_FIELDS } from '../store/employee-rows';
import type { EmployeeRows } from '../store/ports/directory';
import { decodeArgs, encodeArgs } from './protocol';

/**
 * A ctx.directory.batch on the wire between the sandbox and the engine, as one flat list of
 * values (`values`): JSON of whole employee objects, names repeated on every row, was most of
 * the sandbox's cost of a batch (0.8 s to encode and 0.7 s to decode 200,000 sal rows), and an
 * array per employee still cost both ends one more object per row (the list goes in chunks:
 * CHUNK_VALUES). Each operation is
 *
 * - an employee written (createEmployee, updateEmployee, upsertEmployee: most of a big batch):
 *   `code (0, 1, 2), shape, options, …core fields, …attribute values`, its attribute names and
 *   ABSENT_FIELDS once per batch in `shapes` (the rows of one header share them), its options
 *   (an index in `json`, -1: none) once per batch when the rows share one options object;
 * - any other operation, or an employee with other fields than an Employee's or a value that is
 *   not a string, number, boolean or null: `3, index`, the operation's JSON in `json`
 *   (encodeArgs), for the engine to run or refuse as it always did.
 *
 * It crosses in V8's serialization (frames.ts), which can carry more than JSON (dates, maps,
 * cycles…): the engine (decodeBatch) checks the layout and every value as it reads them, since
 * the sandbox is not trusted; anything out of place is refused (FG_PLUGIN_INVALID), never read
 * as another field.
 */
export interface WireBatch { chunks: unknown[][]; shapes: WireShape[]; json: string[] }
type WireShape = [keys: string[], absent: AbsentFields | null];

/**
 * `values` goes in chunks of whole operations, each cut once past this many values: an array past
 * V8's largest regular object (128 KiB: 16,384 values) is made in its old generation, and then
 * each value stored in it, a young string, went through the write barrier and its remembered
 * set, and stayed alive through the next scavenge. A 2,000-row sal batch is 54,000 values:
 * built in chunks, encodeBatch took 0.09-0.12 s for 200,000 rows instead of 0.17-0.22 s
 * (docs/benchmarks.md, 2026-12-07 sandbox-sal2); the engine deserializes small arrays too.
 */
const CHUNK_VALUES = 8192;

const EMPLOYEE_WRITES = ['createEmployee', 'updateEmployee', 'upsertEmployee'] as const;
const CREATE = 0;
const OTHER = 3;
/** The core fields, in the store's flat order (EmployeeRows): a batch of creates goes to it as it arrives (decodeCreates). */
const CORE = EMPLOYEE_FIELDS;
/** Values before an employee's attributes: code, shape, options, the core fields. */
const HEAD = 3 + CORE.length;

/** The batch as it goes on the wire (a WireBatch), or `ops` as it is when not an array. */
export function encodeBatch(ops: unknown): unknown {
  if (!Array.isArray(ops)) return ops;
  let values: unknown[] = [];
  const chunks = [values];
  const shapes: WireShape[] = [];
  const json: string[] = [];
  const shapeIds = new Map<AbsentFields | null, Map<string, number>>();
  // The rows of a batch nearly always share the previous row's shape and options: compared before any lookup.
  let lastKeys: string[] = [];
  let lastAbsent: AbsentFields | null | undefined;
  let lastShape = -1;
  const optionIds = new Map<unknown, number>();
  const shapeOf = (keys: string[], absent: AbsentFields | null): number => {
    let byKeys = shapeIds.get(absent);
    if (!byKeys) shapeIds.set(absent, byKeys = new Map<string, number>());
    const text = keys.join('\u0000');
    let id = byKeys.get(text);
    if (id === undefined) byKeys.set(text, id = shapes.push([keys, absent]) - 1);
    return id;
  };
  const other = (op: unknown, args: unknown): void => {
    values.push(OTHER, json.push(JSON.stringify(Array.isArray(args) ? { ...(op as object), args: encodeArgs(args) } : op ?? null)) - 1);
  };
  for (const op of ops as unknown[]) {
    if (values.length >= CHUNK_VALUES) chunks.push(values = []);
    const { method, args } = (op ?? {}) as { method?: unknown; args?: unknown };
    const code = typeof method === 'string' ? EMPLOYEE_WRITES.indexOf(method as typeof EMPLOYEE_WRITES[number]) : -1;
    const employee = Array.isArray(args) ? args[0] as Employee : undefined;
    const options: unknown = Array.isArray(args) ? args[1] : undefined;
    if (code < 0 || !isPlainEmployee(employee) || (args as unknown[]).length > 2 || (options !== undefined && (typeof options !== 'object' || options === null))) {
      other(op, args);
      continue;
    }
    const absent = employee[ABSENT_FIELDS] ?? null;
    const { attributes } = employee;
    const at = values.length;
    values.push(code, lastShape, -1, employee.organizationCode, employee.registrationReference, employee.technicalId, employee.email,
      employee.lastname, employee.firstname, employee.active, employee.departureDate);
    let scalars = true;
    for (let v = at + 3; v < at + HEAD; v++) scalars &&= isScalar(values[v]);
    // The previous row's attribute names, in order, as own keys: its shape (for...in also sees inherited keys: a mismatch then).
    let n = 0;
    let same = absent === lastAbsent;
    for (const key in attributes) {
      if (same && lastKeys[n] !== key) same = false;
      const value = attributes[key];
      scalars &&= isScalar(value);
      values.push(value);
      n++;
    }
    if (!scalars) {
      values.length = at;
      other(op, args);
      continue;
    }
    if (!same || n !== lastKeys.length) {
      const keys = Object.keys(attributes);
      values.length = at + HEAD;
      for (const key of keys) values.push(attributes[key]);
      lastShape = shapeOf(keys, absent);
      lastKeys = keys;
      lastAbsent = absent;
      values[at + 1] = lastShape;
    }
    if (options !== undefined) {
      let o = optionIds.get(options);
      if (o === undefined) optionIds.set(options, o = json.push(JSON.stringify(options)) - 1);
      values[at + 2] = o;
    }
  }
  return { chunks, shapes, json } satisfies WireBatch;
}

/** The operations of a WireBatch, checked as they are read; anything that is not a WireBatch as it is (the engine refuses it). */
export function decodeBatch(batch: unknown): unknown {
  if (!batch || typeof batch !== 'object' || !Array.isArray((batch as WireBatch).chunks)) return batch;
  const { shapes, json } = batch as WireBatch;
  const values = joined((batch as WireBatch).chunks);
  if (!values || !Array.isArray(shapes) || !Array.isArray(json)) throw invalid('its chunks, shapes or JSON texts are not lists');
  const shapeList = shapes.map(checkShape);
  const parsed = new Map<number, unknown>();
  const jsonAt = (i: unknown): unknown => {
    if (typeof i !== 'number' || typeof json[i] !== 'string') throw invalid(`a JSON text index ${String(i)} out of range`);
    if (!parsed.has(i)) parsed.set(i, JSON.parse(json[i]));
    return parsed.get(i);
  };
  const ops: unknown[] = [];
  let i = 0;
  while (i < values.length) {
    const code = values[i];
    if (code === OTHER) {
      const op = JSON.parse(json[checkIndex(values[i + 1], json.length, 'JSON text')]) as unknown; // a fresh object per operation
      const { args } = (op ?? {}) as { args?: unknown };
      ops.push(Array.isArray(args) ? { ...(op as object), args: decodeArgs(args) } : op);
      i += 2;
      continue;
    }
    if (code !== 0 && code !== 1 && code !== 2) throw invalid(`operation code ${String(code)} at value ${i}`);
    const shape = shapeList[checkIndex(values[i + 1], shapeList.length, 'shape')];
    const o = values[i + 2];
    const end = i + HEAD + shape.keys.length;
    if (end > values.length) throw invalid(`an employee cut short at value ${i}`);
    for (let v = i + 3; v < end; v++) if (!isScalar(values[v])) throw invalid(`value ${v} is ${describe(values[v])}, not a string, number, boolean or null`);
    const attributes: Attributes = {};
    for (let k = 0, v = i + HEAD; v < end; k++, v++) {
      if (shape.hasProto && shape.keys[k] === '__proto__') Object.defineProperty(attributes, '__proto__', { value: values[v], enumerable: true, writable: true, configurable: true });
      else attributes[shape.keys[k]] = values[v] as Attributes[string];
    }
    const employee: Employee = {
      organizationCode: values[i + 3] as string, registrationReference: values[i + 4] as string, technicalId: values[i + 5] as string | null,
      email: values[i + 6] as string | null, lastname: values[i + 7] as string, firstname: values[i + 8] as string,
      active: values[i + 9] as boolean, departureDate: values[i + 10] as string | null, attributes,
    };
    if (shape.absent) employee[ABSENT_FIELDS] = shape.absent;
    ops.push({ method: EMPLOYEE_WRITES[code], args: o === -1 ? [employee] : [employee, jsonAt(o)] });
    i = end;
  }
  return ops;
}

/**
 * A WireBatch of createEmployee operations only, all with the same options (a sal batch of new
 * rows, most of a big file), as the store's flat rows (EmployeeRows, DirectoryRepository
 * createEmployeeRows): the values list as it arrived, each row's place in it and its shape, no
 * Employee built. Checked as decodeBatch checks it, and what applyBatch checks of an operation
 * holds by construction (a createEmployee of an entity and at most its options). Undefined for
 * anything else, or anything out of place: decodeBatch then reads or refuses it as always.
 */
export function decodeCreates(batch: unknown): { rows: EmployeeRows; options: WriteOptions | undefined } | undefined {
  if (!batch || typeof batch !== 'object') return undefined;
  const { shapes, json } = batch as WireBatch;
  const values = joined((batch as WireBatch).chunks);
  if (!values || values.length === 0 || !Array.isArray(shapes) || !Array.isArray(json)) return undefined;
  const o = values[2];
  const keysOf = new Array<readonly string[]>(shapes.length).fill(NOT_NAMED);
  const rows: number[] = [];
  try {
    for (let i = 0; i < values.length;) {
      const s = values[i + 1];
      if (values[i] !== CREATE || values[i + 2] !== o) return undefined;
      if (keysOf[checkIndex(s, shapes.length, 'shape')] === NOT_NAMED) keysOf[s as number] = distinct(checkShape(shapes[s as number], s as number).keys);
      const end = i + HEAD + keysOf[s as number].length;
      if (end > values.length) return undefined;
      for (let v = i + 3; v < end; v++) if (!isScalar(values[v])) return undefined;
      rows.push(i + 3, s as number);
      i = end;
    }
    const options = o === -1 ? undefined : JSON.parse(json[checkIndex(o, json.length, 'JSON text')]) as unknown;
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) return undefined;
    return { rows: { values, rows, shapes: keysOf }, options: options as WriteOptions | undefined };
  } catch {
    return undefined; // decodeBatch refuses it with its reason
  }
}

/** The values of a batch's chunks, in one list (the store binds rows from one); undefined if the chunks are not lists of lists. */
function joined(chunks: unknown): unknown[] | undefined {
  if (!Array.isArray(chunks) || !chunks.every((chunk) => Array.isArray(chunk))) return undefined;
  return chunks.length === 1 ? chunks[0] as unknown[] : ([] as unknown[]).concat(...chunks as unknown[][]);
}

/** A shape no row of a batch names (decodeCreates). */
const NOT_NAMED: readonly string[] = Object.freeze([]);

/** A shape's names, each once (encodeBatch never repeats one: the engine's flat rows rely on it). */
function distinct(keys: string[]): string[] {
  if (new Set(keys).size !== keys.length) throw invalid('a shape names an attribute twice');
  return keys;
}

/** A shape as the engine uses it: its names, a fresh AbsentFields of strings (or null), whether a name is `__proto__`. */
function checkShape(shape: unknown, index: number): { keys: string[]; absent: AbsentFields | null; hasProto: boolean } {
  const [keys, absent] = Array.isArray(shape) ? shape as unknown[] : [];
  const { core, attributes } = (absent ?? {}) as { core?: unknown; attributes?: unknown };
  if (!isStrings(keys) || (absent !== null && (typeof absent !== 'object' || !isStrings(core) || !isStrings(attributes)))) {
    throw invalid(`shape ${index} is not [attribute names, { core, attributes } or null]`);
  }
  const fields = absent === null ? null : Object.freeze({ core: [...core as AbsentFields['core']], attributes: [...attributes as string[]] });
  return { keys, absent: fields, hasProto: keys.includes('__proto__') };
}

function isStrings(list: unknown): list is string[] {
  return Array.isArray(list) && list.every((k) => typeof k === 'string');
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number';
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : Array.isArray(v) ? 'a list' : `of type ${typeof v}`;
}

function checkIndex(i: unknown, length: number, what: string): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= length) throw invalid(`a ${what} index ${String(i)} out of range`);
  return i;
}

function invalid(what: string): FluxgateError {
  return new FluxgateError('FG_PLUGIN_INVALID', `a ctx.directory.batch from the sandbox that the engine cannot read: ${what} (sandbox protocol)`, {});
}

/** An employee with exactly an Employee's fields (nothing the packed form would drop). */
function isPlainEmployee(e: unknown): e is Employee {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return false;
  const { attributes } = e as { attributes?: unknown };
  if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)) return false;
  // Counted without listing them (Object.keys made an array per row): own keys only, as JSON.stringify would see.
  let n = 0;
  for (const key in e) {
    if (!Object.hasOwn(e, key)) return false;
    n++;
  }
  if (n !== CORE.length + 1) return false;
  for (const field of CORE) if (!Object.hasOwn(e, field)) return false;
  return true;
}
