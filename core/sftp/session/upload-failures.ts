import { FluxgateError, isFluxgateError } from '../../errors';
import type { JailedPath } from '../path-jail';
import { isFilepart } from '../permissions';

/**
 * What a client is told when an upload's data could not be written: the status message of the
 * failed WRITE, of every later WRITE and of the CLOSE. A refusal (FluxgateError) is its own message.
 */
export function uploadFailure(path: JailedPath, err: unknown): FluxgateError {
  if (isFluxgateError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const after = isFilepart(path)
    ? `${path.name} keeps only what was written before and cannot be renamed to its final name: resume it or upload it again later`
    : 'it was not published: upload it again later';
  return new FluxgateError(code === 'ENOSPC' || code === 'EDQUOT' ? 'FG_DISK_FULL' : 'FG_WRITE_FAILED',
    `${path.virtual}: ${failureReason(err)} on the server: the upload failed; ${after}`, { path: path.virtual, errno: code, reason: failureReason(err) });
}

/** The failure in a few words: a system error's meaning, or a refusal's own message. */
export function failureReason(err: unknown): string {
  if (isFluxgateError(err)) return typeof err.details.reason === 'string' ? err.details.reason : err.message;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  return `the data could not be written (${code})`;
}

/**
 * The `.filepart`s whose upload failed (a write error, a refused WRITE, a failed flush): their
 * RENAME to the final name is refused, since data the client sent is missing from them. Server-wide,
 * by real path, in memory: a later upload to the same `.filepart` that closes without error (a
 * resume, or a new upload) or its removal lifts the mark; a restart forgets it (the client's
 * session, which saw the failure, is gone by then).
 */
export class FailedUploads {
  /** Why each failed, by real path. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly max = 10_000) {}

  mark(path: JailedPath, reason: string): void {
    this.failures.delete(path.real);
    // Bounded: a client failing uploads under ever new names must not grow the server's memory.
    if (this.failures.size >= this.max) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(path.real, reason);
  }

  reason(path: JailedPath): string | undefined {
    return this.failures.get(path.real);
  }

  clear(path: JailedPath): void {
    this.failures.delete(path.real);
  }
}

export const SERVER_FAILED_UPLOADS = new FailedUploads();

/** Why the RENAME of a `.filepart` whose upload failed is refused. */
export function incompleteUpload(from: JailedPath, to: JailedPath, reason: string): FluxgateError {
  return new FluxgateError('FG_UPLOAD_FAILED',
    `${from.virtual} cannot be renamed to ${to.name}: its upload failed (${reason}), so data is missing from it; resume it or upload it again`,
    { path: from.virtual, to: to.virtual });
}
