import type { SFTPWrapper } from 'ssh2';
import { STATUS, messageFor, statusFor } from './attrs';
import type { SessionContext } from './context';
import { closeDirHandle, onClosedir, onOpendir, onReaddir } from './dir-requests';
import { onClose, onFsetstat, onFstat, onOpen, onRead } from './file-requests';
import { abandon } from './upload-completion';
import { onWrite, onWritePieces } from './write-requests';
import { advertiseLimits, LIMITS_EXTENSION, replyLimits } from './openssh-limits';
import { onRealpath, onRefused, onRemove, onRename, onSetstat, onStat } from './path-requests';
import { safely } from './reply';
import { installWriteFraming } from './write-framing';

/**
 * Wires one SFTP subsystem channel to the request handlers. Requests with no handler here
 * get OP_UNSUPPORTED from ssh2; EXTENDED requests are answered OP_UNSUPPORTED explicitly,
 * except limits@openssh.com (see openssh-limits.ts). WRITEs go through write-framing.ts when
 * ssh2's internals allow it (returned, for the log).
 */
export function runSftpSession(sftp: SFTPWrapper, ctx: SessionContext, onEnd: () => void): { writeFraming: boolean } {
  // Every request re-checks the login first: once `account disable` or `key remove` has
  // returned, no request of the session succeeds (a CLOSE would publish, a READ would read).
  // The check reads the store (asynchronously); the handlers still run in the order the
  // requests arrived, each once its own check has passed.
  let inOrder: Promise<void> = Promise.resolve();
  const live = (reqid: number, handle: () => unknown): void => {
    const refusal = ctx.recheck().then(() => undefined, (err: unknown) => err ?? new Error('re-check failed'));
    inOrder = inOrder.then(() => refusal).then((err) => {
      if (err === undefined) {
        handle();
        return;
      }
      ctx.audit.warn({ op: 'request', code: (err as { code?: string }).code, reason: (err as Error).message }, 'denied');
      safely(() => ctx.sftp.status(reqid, statusFor(err), messageFor(err)));
    }).catch((err: unknown) => ctx.audit.error({ err }, 'request handler failed'));
  };
  // WRITEs without ssh2's reassembly copy; if ssh2's internals differ, the 'WRITE' event below serves.
  const writeFraming = installWriteFraming(sftp, (reqid, handle, offset, pieces, length) => live(reqid, () => onWritePieces(ctx, reqid, handle, offset, pieces, length)));
  advertiseLimits(sftp);
  sftp
    .on('OPEN', (reqid, filename, flags) => live(reqid, () => onOpen(ctx, reqid, filename, flags)))
    .on('READ', (reqid, handle, offset, length) => live(reqid, () => onRead(ctx, reqid, handle, offset, length)))
    .on('WRITE', (reqid, handle, offset, data) => live(reqid, () => onWrite(ctx, reqid, handle, offset, data)))
    .on('FSTAT', (reqid, handle) => live(reqid, () => onFstat(ctx, reqid, handle)))
    .on('FSETSTAT', (reqid, handle, attrs) => live(reqid, () => onFsetstat(ctx, reqid, handle, attrs)))
    .on('CLOSE', (reqid, handle) => live(reqid, () => (onClosedir(ctx, reqid, handle) || onClose(ctx, reqid, handle))))
    .on('OPENDIR', (reqid, path) => live(reqid, () => onOpendir(ctx, reqid, path)))
    .on('READDIR', (reqid, handle) => live(reqid, () => onReaddir(ctx, reqid, handle)))
    .on('REALPATH', (reqid, path) => live(reqid, () => onRealpath(ctx, reqid, path)))
    .on('STAT', (reqid, path) => live(reqid, () => onStat(ctx, reqid, path, 'stat')))
    .on('LSTAT', (reqid, path) => live(reqid, () => onStat(ctx, reqid, path, 'lstat')))
    .on('SETSTAT', (reqid, path, attrs) => live(reqid, () => onSetstat(ctx, reqid, path, attrs)))
    .on('REMOVE', (reqid, path) => live(reqid, () => onRemove(ctx, reqid, path)))
    .on('RENAME', (reqid, from, to) => live(reqid, () => onRename(ctx, reqid, from, to)))
    .on('MKDIR', (reqid, path) => onRefused(ctx, reqid, 'mkdir', path, 'directories cannot be created: the account tree is fixed'))
    .on('RMDIR', (reqid, path) => onRefused(ctx, reqid, 'rmdir', path, 'directories cannot be removed: the account tree is fixed'))
    .on('SYMLINK', (reqid, linkPath) => onRefused(ctx, reqid, 'symlink', linkPath, 'symbolic links cannot be created'))
    .on('READLINK', (reqid, path) => onRefused(ctx, reqid, 'readlink', path, 'symbolic links are not supported'))
    .on('EXTENDED', (reqid, name: string) => live(reqid, () => {
      if (name === LIMITS_EXTENSION && replyLimits(sftp, reqid, ctx.handles.max)) return;
      ctx.audit.debug({ op: 'extended', extension: name }, 'unsupported request');
      safely(() => ctx.sftp.status(reqid, STATUS.OP_UNSUPPORTED, `${name} is not supported`));
    }));

  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    for (const h of ctx.handles.drain()) {
      if (h.kind === 'file') void abandon(ctx, h).catch((err: unknown) => ctx.audit.error({ err }, 'cleanup failed'));
      else void closeDirHandle(h);
    }
    onEnd();
  };
  // OpenSSH's sftp waits for the server to end its side too, or it hangs on `bye`.
  sftp.on('end', () => { safely(() => sftp.end()); finish(); });
  sftp.on('close', finish);
  sftp.on('error', (err: Error) => { ctx.audit.debug({ err }, 'sftp channel error'); finish(); });
  return { writeFraming };
}
