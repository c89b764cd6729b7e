import { FluxgateError } from '../errors';

/**
 * The error a directory batch rejects with when operation `at` threw `err` (every implementation
 * of DirectoryStore.batch, so that a plugin sees the same whatever runs it): a FluxgateError keeps
 * its code, its message says that none of the batch applied, and `details` name the operation.
 * Anything else (a bug, not a refusal) goes through as it is.
 */
export function batchFailure(err: unknown, at: number, method: string, total: number): unknown {
  if (!(err instanceof FluxgateError)) return err;
  return new FluxgateError(err.code, `ctx.directory.batch: operation ${at} (${method}) failed, so none of the batch's ${total} operations applied: ${err.message}`,
    { ...err.details, operation: at, method }, { cause: err });
}
