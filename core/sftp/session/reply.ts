import { isFluxgateError } from '../../errors';
import { messageFor, statusFor } from './attrs';
import type { SessionContext } from './context';

/**
 * Runs one request handler. A refusal becomes an SFTP status with a message for the user and
 * an audit line; the session stays usable. Replies after the channel closed are dropped.
 * `fn` runs at once; a synchronous one's throw is handled as a rejection.
 */
export function handleRequest(ctx: SessionContext, reqid: number, op: string, path: string | undefined, fn: () => Promise<void> | void): void {
  new Promise<void>((resolve) => resolve(fn())).catch((err: unknown) => {
    if (isFluxgateError(err, 'FG_NO_SUCH_FILE') || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      // Clients stat names before every upload: a miss is routine, not a refusal.
      ctx.audit.debug({ op, path }, 'not found');
    } else if (isFluxgateError(err, 'FG_LIMIT')) {
      // A flood meets its limit thousands of times: the first refusal per limit and session is a warning.
      const setting = String(err.details.setting);
      const first = !ctx.limitsReached.has(setting);
      ctx.limitsReached.add(setting);
      ctx.audit[first ? 'warn' : 'debug']({ op, path, code: err.code, reason: err.message, setting, limit: err.details.limit }, 'limit reached');
    } else if (isFluxgateError(err)) {
      ctx.audit.warn({ op, path, code: err.code, reason: err.message }, 'denied');
    } else {
      ctx.audit.error({ op, path, err }, 'request failed');
    }
    safely(() => ctx.sftp.status(reqid, statusFor(err), messageFor(err)));
  });
}

export function safely(send: () => unknown): void {
  try {
    send();
  } catch {
    // The channel is gone (client disconnected): nothing to answer.
  }
}
