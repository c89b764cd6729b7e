import { unlink } from 'node:fs/promises';
import type { Attributes } from 'ssh2';
import { FluxgateError } from '../../errors';
import { STATUS, toAttrs } from './attrs';
import type { SessionContext } from './context';
import { checkSetstat, lstatOrUndefined } from './file-requests';
import { announceUpload } from './upload-completion';
import { handleRequest, safely } from './reply';
import { SERVER_FAILED_UPLOADS, incompleteUpload } from './upload-failures';
import { finishInterruptedPublish, publish } from './uploads';
import { isFilepart } from '../permissions';

export function onRealpath(ctx: SessionContext, reqid: number, input: string): void {
  handleRequest(ctx, reqid, 'realpath', input, () => {
    // Answered lexically: the result is the canonical jail path whether or not it exists yet.
    const path = ctx.jail.resolve(input);
    safely(() => ctx.sftp.name(reqid, [{ filename: path.virtual, longname: path.virtual, attrs: {} as Attributes }]));
  });
}

/** STAT and LSTAT answer alike: symbolic links are refused, never followed. */
export function onStat(ctx: SessionContext, reqid: number, input: string, op: 'stat' | 'lstat'): void {
  handleRequest(ctx, reqid, op, input, async () => {
    const path = ctx.jail.resolve(input);
    await ctx.jail.assertNoSymlinks(path);
    let st = await lstatOrUndefined(path.real);
    if (isFilepart(path) && await finishInterruptedPublish(path.real, st)) st = undefined;
    const recent = st ? undefined : ctx.recentUploads.get(path.virtual);
    if (recent) return safely(() => ctx.sftp.attrs(reqid, recent));
    if (!st) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such file or directory`, { path: path.virtual });
    safely(() => ctx.sftp.attrs(reqid, toAttrs(st)));
  });
}

/**
 * SETSTAT: see checkSetstat (file-requests.ts). The path must exist: a file, a directory, an
 * upload in progress under that name, or a file this session completed and intake took away.
 */
export function onSetstat(ctx: SessionContext, reqid: number, input: string, attrs: Attributes): void {
  handleRequest(ctx, reqid, 'setstat', input, async () => {
    const path = ctx.jail.resolve(input);
    await ctx.jail.assertNoSymlinks(path);
    const st = await lstatOrUndefined(path.real);
    const upload = ctx.handles.openFiles.upload(path)?.handle;
    const recent = st || upload ? undefined : ctx.recentUploads.get(path.virtual);
    if (!st && !upload && !recent) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such file or directory`, { path: path.virtual });
    checkSetstat(attrs, path, upload ? upload.end : st ? st.size : recent!.size);
    ctx.audit.debug({ op: 'setstat', path: path.virtual }, 'setstat ignored');
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
  });
}

export function onRemove(ctx: SessionContext, reqid: number, input: string): void {
  handleRequest(ctx, reqid, 'remove', input, async () => {
    const path = ctx.jail.resolve(input);
    await ctx.jail.assertNoSymlinks(path);
    const st = await lstatOrUndefined(path.real);
    if (st?.isDirectory()) {
      throw new FluxgateError('FG_PERMISSION_DENIED', `${path.virtual} is a directory: directories cannot be removed (the account tree is fixed)`, { path: path.virtual });
    }
    ctx.policy.remove(path);
    // Never a file an upload (of any session) still writes; claimed, no upload can open it now.
    const claim = ctx.handles.openFiles.claim(path, { session: ctx.handles, op: 'remove' });
    try {
      if (!st) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such file`, { path: path.virtual });
      if (!st.isFile()) throw new FluxgateError('FG_PERMISSION_DENIED', `${path.virtual} is not a regular file`, { path: path.virtual });
      await unlink(path.real);
      // A new upload under this name starts afresh.
      SERVER_FAILED_UPLOADS.clear(path);
    } finally {
      ctx.handles.openFiles.release(path, claim);
    }
    ctx.audit.info({ op: 'remove', path: path.virtual, size: st.size }, 'remove');
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
  });
}

export function onRename(ctx: SessionContext, reqid: number, fromInput: string, toInput: string): void {
  handleRequest(ctx, reqid, 'rename', fromInput, async () => {
    const from = ctx.jail.resolve(fromInput);
    const to = ctx.jail.resolve(toInput);
    await ctx.jail.assertNoSymlinks(from);
    await ctx.jail.assertNoSymlinks(to);
    ctx.policy.rename(from, to);
    // A .filepart that lost data (disk full, a refused WRITE) is never completed.
    const failed = SERVER_FAILED_UPLOADS.reason(from);
    if (failed !== undefined) throw incompleteUpload(from, to, failed);
    // Completing an upload another handle still writes would publish (and announce) it half written;
    // claimed before any file-system call, so no upload can open either name meanwhile.
    const files = ctx.handles.openFiles;
    const fromClaim = files.claim(from, { session: ctx.handles, op: 'rename' });
    let toClaim;
    let size: number;
    try {
      toClaim = files.claim(to, { session: ctx.handles, op: 'rename-onto' });
      const st = await lstatOrUndefined(from.real);
      if (isFilepart(from) && await finishInterruptedPublish(from.real, st)) {
        // This rename was done before, up to its last step: answered as done if `to` is that file.
        const published = await lstatOrUndefined(to.real);
        if (published?.ino !== st!.ino || published.dev !== st!.dev) throw new FluxgateError('FG_NO_SUCH_FILE', `${from.virtual}: no such file (it was published before)`, { path: from.virtual });
        ctx.audit.warn({ op: 'rename', path: from.virtual, to: to.virtual }, 'rename: an earlier rename of this file, interrupted before its end, completed');
        safely(() => ctx.sftp.status(reqid, STATUS.OK));
        return;
      }
      if (!st?.isFile()) throw new FluxgateError('FG_NO_SUCH_FILE', `${from.virtual}: no such file`, { path: from.virtual });
      // Last, right before publishing: nothing is published once the login was revoked.
      await ctx.recheck();
      await publish(from.real, to, false);
      size = st.size;
    } finally {
      files.release(from, fromClaim);
      files.release(to, toClaim);
    }
    ctx.audit.info({ op: 'rename', path: from.virtual, to: to.virtual }, 'rename');
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
    announceUpload(ctx, to, size);
  });
}

/** MKDIR, RMDIR, SYMLINK, READLINK: the tree is fixed and links are never created or followed. */
export function onRefused(ctx: SessionContext, reqid: number, op: string, input: string, message: string): void {
  handleRequest(ctx, reqid, op, input, () => {
    throw new FluxgateError('FG_PERMISSION_DENIED', message, { path: input });
  });
}
