import { ABSENT_FIELDS, type AbsentFields, type Attributes, type Employee } from '../plugin-api/directory';
import { decodeArgs, encodeArgs } from './protocol';

/**
 * A ctx.directory.batch on the wire between the sandbox and the engine. An employee written
 * (createEmployee, updateEmployee, upsertEmployee: most of a big batch) goes as an array of its
 * values, `[shape, …core fields, …attribute values]`, its attribute names and ABSENT_FIELDS
 * once per batch in `shapes` (the rows of one header share them): JSON of whole employee
 * objects, names repeated on every row, was most of the sandbox's cost of a batch (0.8 s to
 * encode and 0.7 s to decode 200,000 sal rows). Its options go once per batch too when the ops
 * share one object (`options`: indexes in `shared`). Any other operation, or an employee with
 * other fields than an Employee's, goes as it is (encodeArgs), for the engine to run or refuse.
 */
export interface WireBatch { ops: unknown[]; shapes: WireShape[]; shared: unknown[] }
interface WireShape { keys: string[]; absent: AbsentFields | null }
/** An employee write: `e` the packed employee, `o` its options' index in `shared` (-1: none). */
interface PackedOp { m: string; e: unknown[]; o: number }

const EMPLOYEE_WRITES = new Set(['createEmployee', 'updateEmployee', 'upsertEmployee']);
const CORE = ['organizationCode', 'registrationReference', 'technicalId', 'email', 'lastname', 'firstname', 'active', 'departureDate'] as const;

/** The batch as it goes on the wire (a WireBatch), or `ops` as it is when not an array. */
export function encodeBatch(ops: unknown): unknown {
  if (!Array.isArray(ops)) return ops;
  const shapes: WireShape[] = [];
  const shared: unknown[] = [];
  const sharedIndex = new Map<unknown, number>();
  const byAbsent = new Map<AbsentFields | null, Map<string, number>>();
  let last: WireShape | undefined;
  let lastId = -1;
  const shapeOf = (keys: string[], absent: AbsentFields | null): number => {
    // The rows of a batch nearly always share the previous row's shape: compared before any lookup.
    if (last && last.absent === absent && sameKeys(last.keys, keys)) return lastId;
    let byKeys = byAbsent.get(absent);
    if (!byKeys) byAbsent.set(absent, byKeys = new Map<string, number>());
    const text = keys.join('\u0000');
    let id = byKeys.get(text);
    if (id === undefined) byKeys.set(text, id = shapes.push({ keys, absent }) - 1);
    last = shapes[id];
    lastId = id;
    return id;
  };
  const encoded = ops.map((op: unknown) => {
    const { method, args } = (op ?? {}) as { method?: unknown; args?: unknown };
    if (!Array.isArray(args)) return op;
    const employee = args[0] as Employee | undefined;
    const options: unknown = args[1];
    if (typeof method !== 'string' || !EMPLOYEE_WRITES.has(method) || !isPlainEmployee(employee) || args.length > 2
      || (options !== undefined && (typeof options !== 'object' || options === null))) {
      return { ...(op as object), args: encodeArgs(args) };
    }
    const keys = Object.keys(employee.attributes);
    const packed: unknown[] = [shapeOf(keys, employee[ABSENT_FIELDS] ?? null)];
    for (const field of CORE) packed.push(employee[field]);
    for (const key of keys) packed.push(employee.attributes[key]);
    let o = -1;
    if (options !== undefined) {
      o = sharedIndex.get(options) ?? -1;
      if (o < 0) sharedIndex.set(options, o = shared.push(options) - 1);
    }
    return { m: method, e: packed, o } satisfies PackedOp;
  });
  return { ops: encoded, shapes, shared };
}

export function decodeBatch(batch: unknown): unknown {
  if (!batch || typeof batch !== 'object' || !Array.isArray((batch as WireBatch).ops)) return batch;
  const { ops, shapes, shared } = batch as WireBatch;
  return ops.map((op: unknown) => {
    if (op && typeof op === 'object' && Array.isArray((op as PackedOp).e)) {
      const { m, e: packed, o } = op as PackedOp;
      const { keys, absent } = shapes[packed[0] as number];
      const employee: Record<string | symbol, unknown> = {};
      CORE.forEach((field, i) => { employee[field] = packed[1 + i]; });
      const attributes: Attributes = {};
      keys.forEach((key, i) => put(attributes, key, packed[1 + CORE.length + i] as Attributes[string]));
      employee.attributes = attributes;
      if (absent) employee[ABSENT_FIELDS] = absent;
      return { method: m, args: o < 0 ? [employee] : [employee, shared[o]] };
    }
    const { args } = (op ?? {}) as { args?: unknown };
    return Array.isArray(args) ? { ...(op as object), args: decodeArgs(args) } : op;
  });
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An employee with exactly an Employee's fields (nothing the packed form would drop). */
function isPlainEmployee(e: unknown): e is Employee {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return false;
  const { attributes } = e as { attributes?: unknown };
  if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes)) return false;
  const own = Object.keys(e);
  return own.length === CORE.length + 1 && CORE.every((field) => Object.hasOwn(e, field));
}

/** Sets a property, `__proto__` included (a custom column may be called so). */
function put(attributes: Attributes, key: string, value: Attributes[string]): void {
  if (key === '__proto__') Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
  else attributes[key] = value;
}
