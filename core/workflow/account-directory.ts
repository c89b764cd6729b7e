import { FluxgateError } from '../errors';
import type { AccountDirectory, DirectoryStore } from '../plugin-api/directory';

type Method = Exclude<keyof DirectoryStore, 'transaction'>;

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

/** `ctx.directory`: the store bound to one account (the file's); no method can name another. */
export function bindDirectory(store: DirectoryStore, accountId: string, flux: string): AccountDirectory {
  const bound: Record<string, unknown> = { transaction: <T>(fn: () => T): T => store.transaction(fn) };
  for (const method of Object.keys(SHAPES) as Method[]) {
    const shape = SHAPES[method];
    bound[method] = (...args: unknown[]) => {
      if (args.length > shape.args || (shape.entity && (typeof args[0] !== 'object' || args[0] === null))) {
        throw refusal(method, args, accountId, flux);
      }
      // Looked up at call time: a store missing from the container fails when used, not when bound.
      return (store[method] as (...a: unknown[]) => unknown).call(store, accountId, ...args);
    };
  }
  return Object.freeze(bound) as AccountDirectory;
}

function refusal(method: Method, args: unknown[], accountId: string, flux: string): FluxgateError {
  const named = typeof args[0] === 'string' ? args[0] : undefined;
  const given = named === undefined ? `${args.length} argument(s)` : `"${named.slice(0, 64)}" first`;
  return new FluxgateError('FG_PLUGIN_PERMISSION',
    `handler for flux "${flux}" called ctx.directory.${method} with ${given}: ctx.directory is bound to account "${accountId}", `
    + `the account of the file being processed, and takes no account id; a handler reaches no other account's directory. `
    + `Drop the account argument (docs/plugin-api.md, "The context")`,
    { method, account: accountId, flux, ...(named === undefined ? {} : { given: named.slice(0, 64) }) });
}
