import { FluxgateError } from '../errors';
import type { AccountDirectory, DirectoryOp, DirectoryStore } from '../plugin-api/directory';

/** Keeps a refusal's quoted value short. */
const MAX_SHOWN = 64;

type Method = Exclude<keyof DirectoryStore, 'batch'>;

/**
 * What each bound method takes, without the account id: how many arguments at most, and
 * whether the first is an entity (an object). A call outside that shape is a plugin naming an
 * account (another one, or its own through the API before it was bound): refused rather than
 * misread (`createEmployee('acme', employee)` would otherwise take 'acme' for the employee).
 */
const SHAPES: Record<Method, { args: number; entity?: true }> = {
  getOrganization: { args: 1 },
  listOrganizations: { args: 0 },
  upsertOrganization: { args: 2, entity: true },
  getEmployee: { args: 2 },
  findEmployees: { args: 1, entity: true },
  listEmployees: { args: 0 },
  upsertEmployee: { args: 2, entity: true },
  createEmployee: { args: 2, entity: true },
  updateEmployee: { args: 2, entity: true },
  removeEmployee: { args: 2 },
  previousEmployee: { args: 3 },
  forgetPrevious: { args: 1 },
  getUser: { args: 1 },
  listUsers: { args: 0 },
  upsertUser: { args: 2, entity: true },
  getDocument: { args: 1 },
  listDocuments: { args: 0 },
  upsertDocument: { args: 2, entity: true },
};

/**
 * `ctx.directory`: the store bound to one account (the file's); no method can name another.
 * Every method returns a Promise; a refusal rejects it, never throws from the call.
 */
export function bindDirectory(store: DirectoryStore, accountId: string, flux: string): AccountDirectory {
  const bound: Record<string, unknown> = {};
  for (const method of Object.keys(SHAPES) as Method[]) {
    bound[method] = async (...args: unknown[]) => {
      checkShape(method, args, accountId, flux);
      // Looked up at call time: a store missing from the container fails when used, not when bound.
      return (store[method] as (...a: unknown[]) => Promise<unknown>).call(store, accountId, ...args);
    };
  }
  bound.batch = (ops: unknown): Promise<unknown[]> => applyBatch(store, accountId, flux, ops);
  return Object.freeze(bound) as AccountDirectory;
}

/**
 * `ctx.directory.batch(ops)` (the sandbox's engine side calls it too): every operation is
 * checked before any runs (a malformed one: FG_PLUGIN_INVALID; one naming an account:
 * FG_PLUGIN_PERMISSION), then the store runs them all in order in one transaction, its unit of
 * work (DirectoryStore.batch): an operation that throws rolls the whole batch back, and the
 * Promise rejects with its error and the operation's index.
 */
export async function applyBatch(store: DirectoryStore, accountId: string, flux: string, ops: unknown): Promise<unknown[]> {
  if (!Array.isArray(ops)) {
    throw new FluxgateError('FG_PLUGIN_INVALID', `handler for flux "${flux}" called ctx.directory.batch with ${describe(ops)}: it takes an array of operations `
      + `({ method: 'createEmployee', args: [employee, options] }, …; docs/plugin-api.md, "Batches")`, { flux });
  }
  ops.forEach((op, index) => checkOp(op, index, accountId, flux));
  if (ops.length === 0) return [];
  return store.batch(accountId, ops as DirectoryOp[]);
}

function checkOp(op: unknown, index: number, accountId: string, flux: string): void {
  const invalid = (what: string) => new FluxgateError('FG_PLUGIN_INVALID',
    `handler for flux "${flux}" called ctx.directory.batch with operation ${index} ${what}; an operation is { method, args }, `
    + `method one of ${Object.keys(SHAPES).join(', ')} (docs/plugin-api.md, "Batches")`, { flux, operation: index });
  if (typeof op !== 'object' || op === null || Array.isArray(op)) throw invalid(describe(op));
  const { method, args } = op as { method?: unknown; args?: unknown };
  if (typeof method !== 'string' || !Object.hasOwn(SHAPES, method)) {
    throw invalid(typeof method === 'string' ? `naming method "${method.slice(0, MAX_SHOWN)}", which a batch does not run` : 'without a method name');
  }
  if (args !== undefined && !Array.isArray(args)) throw invalid(`whose args is ${describe(args)}, not an array`);
  checkShape(method as Method, args ?? [], accountId, flux, index);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

/**
 * A call outside its method's shape is a plugin naming an account: refused rather than misread
 * (`createEmployee('acme', employee)` would otherwise take 'acme' for the employee).
 */
function checkShape(method: Method, args: unknown[], accountId: string, flux: string, operation?: number): void {
  const shape = SHAPES[method];
  if (args.length > shape.args || (shape.entity && (typeof args[0] !== 'object' || args[0] === null))) {
    throw refusal(method, args, accountId, flux, operation);
  }
}

function refusal(method: Method, args: unknown[], accountId: string, flux: string, operation?: number): FluxgateError {
  const named = typeof args[0] === 'string' ? args[0] : undefined;
  const given = named === undefined ? `${args.length} argument(s)` : `"${named.slice(0, MAX_SHOWN)}" first`;
  const call = operation === undefined ? `ctx.directory.${method}` : `ctx.directory.batch operation ${operation} (${method})`;
  return new FluxgateError('FG_PLUGIN_PERMISSION',
    `handler for flux "${flux}" called ${call} with ${given}: ctx.directory is bound to account "${accountId}", `
    + `the account of the file being processed, and takes no account id; a handler reaches no other account's directory. `
    + `Drop the account argument (docs/plugin-api.md, "The context")`,
    { method, account: accountId, flux, ...(named === undefined ? {} : { given: named.slice(0, MAX_SHOWN) }), ...(operation === undefined ? {} : { operation }) });
}
