import { constants, type Stats, close, fstat, open, read } from 'node:fs';
import { chmod, copyFile, lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Attributes } from 'ssh2';
import { FluxgateError } from '../../errors';
import type { JailedPath } from '../path-jail';
import { isFilepart } from '../permissions';
import { OPEN_MODE, STATUS, toAttrs } from './attrs';
import type { SessionContext } from './context';
import { roomInDev } from './dev-quota';
import type { FileHandle } from './handles';
import { handleRequest, safely } from './reply';
import { holdUploadHeadroom } from './upload-heap';
import { abandon, completeUpload } from './upload-completion';
import { discard, finishInterruptedPublish, tempPathFor } from './uploads';
import { attachWriter } from './write-requests';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const MAX_READ = 256 * 1024;

const noSuchFile = (p: JailedPath): FluxgateError => new FluxgateError('FG_NO_SUCH_FILE', `${p.virtual}: no such file`, { path: p.virtual });

export async function lstatOrUndefined(real: string): Promise<Stats | undefined> {
  return lstat(real).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

function fileHandle(ctx: SessionContext, id: Buffer): FileHandle {
  const h = ctx.handles.get(id);
  if (!h || h.kind !== 'file') throw new FluxgateError('FG_INVALID_VALUE', 'invalid handle');
  return h;
}

function register(ctx: SessionContext, h: FileHandle): Buffer {
  // Its place under the handle limits was reserved before it was opened (onOpen).
  const id = ctx.handles.add(h);
  // Released when the upload is closed, completed or abandoned (upload-heap.ts).
  if (h.mode === 'write') h.releaseHeadroom = holdUploadHeadroom();
  return id;
}

async function openForRead(ctx: SessionContext, path: JailedPath): Promise<FileHandle> {
  ctx.policy.read(path);
  const st = await lstatOrUndefined(path.real);
  if (!st) throw noSuchFile(path);
  if (!st.isFile()) throw new FluxgateError('FG_PERMISSION_DENIED', `${path.virtual} is not a regular file`, { path: path.virtual });
  const fd = await openAsync(path.real, constants.O_RDONLY | constants.O_NOFOLLOW);
  ctx.audit.info({ op: 'open', path: path.virtual, mode: 'read', size: st.size }, 'open');
  return { kind: 'file', fd, path, mode: 'read', bytes: 0, end: 0 };
}

async function openForUpload(ctx: SessionContext, path: JailedPath, flags: number): Promise<FileHandle> {
  const { mayReplace } = ctx.policy.upload(path);
  // Server-wide, before anything touches the disk: one writer per path, and no rename or remove of it meanwhile.
  const claim = ctx.handles.openFiles.claim(path, { session: ctx.handles, op: 'upload' });
  try {
    const room = await roomInDev(ctx, path);
    const h = await openClaimed(ctx, path, flags, mayReplace).finally(() => room?.release());
    h.claim = claim;
    claim.handle = h;
    return h;
  } catch (err) {
    ctx.handles.openFiles.release(path, claim);
    throw err;
  }
}

async function openClaimed(ctx: SessionContext, path: JailedPath, flags: number, mayReplace: boolean): Promise<FileHandle> {
  const parent = await lstatOrUndefined(ctx.jail.parent(path).real);
  if (!parent?.isDirectory()) throw new FluxgateError('FG_NO_SUCH_FILE', `${ctx.jail.parent(path).virtual}: no such directory`, { path: path.virtual });
  let existing = await lstatOrUndefined(path.real);
  if (isFilepart(path) && await finishInterruptedPublish(path.real, existing)) existing = undefined;
  if (existing && !existing.isFile()) throw new FluxgateError('FG_PERMISSION_DENIED', `${path.virtual} is not a regular file`, { path: path.virtual });
  if (existing && flags & OPEN_MODE.EXCL) throw new FluxgateError('FG_FILE_EXISTS', `${path.virtual} already exists`, { path: path.virtual });
  // Without CREAT an OPEN only opens an existing file.
  const create = (flags & OPEN_MODE.CREAT) !== 0;
  if (!existing && !create) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such file (opened without CREAT, which does not create it)`, { path: path.virtual });
  const mode = ctx.sftpConfig.fileMode;
  const append = (flags & OPEN_MODE.APPEND) !== 0;

  if (isFilepart(path)) {
    // A .filepart is the client's own partial upload: written in place so it can be resumed.
    let osFlags = constants.O_WRONLY | constants.O_NOFOLLOW;
    if (create) osFlags |= constants.O_CREAT;
    if (flags & OPEN_MODE.TRUNC) osFlags |= constants.O_TRUNC;
    if (append) osFlags |= constants.O_APPEND;
    const fd = await openAsync(path.real, osFlags, mode);
    ctx.audit.info({ op: 'open', path: path.virtual, mode: 'upload', partial: true }, 'open');
    const end = osFlags & constants.O_TRUNC ? 0 : (existing?.size ?? 0);
    return attachWriter(ctx, { kind: 'file', fd, path, mode: 'write', bytes: 0, end, append, upload: { final: path, mayReplace: true } });
  }

  // Checked again atomically when the upload completes; refusing now saves the client a transfer.
  if (existing && !mayReplace) {
    throw new FluxgateError('FG_FILE_EXISTS', `${path.virtual} already exists and is complete: upload under another name`, { path: path.virtual });
  }
  const tempReal = tempPathFor(path);
  // Opened without TRUNC, an existing file (dev/, the only place that may replace) keeps its content:
  // the upload modifies a copy (APPEND, or WRITEs at offsets), which replaces it atomically at CLOSE.
  const keep = existing !== undefined && (flags & OPEN_MODE.TRUNC) === 0;
  const osAppend = append ? constants.O_APPEND : 0;
  let fd = -1;
  let end = 0;
  if (keep) {
    try {
      await copyFile(path.real, tempReal, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      await chmod(tempReal, mode);
      fd = await openAsync(tempReal, constants.O_WRONLY | constants.O_NOFOLLOW | osAppend);
      end = (await fstatAsync(fd)).size;
    } catch (err) {
      if (fd >= 0) close(fd, () => undefined);
      // EEXIST: the random temporary name is someone else's (never seen): not ours to delete.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await discard(tempReal);
      throw err;
    }
  } else {
    fd = await openAsync(tempReal, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | osAppend, mode);
  }
  ctx.audit.info({ op: 'open', path: path.virtual, mode: 'upload', partial: false, kept: keep ? end : undefined }, 'open');
  return attachWriter(ctx, { kind: 'file', fd, path, mode: 'write', bytes: 0, end, append, upload: { final: path, tempReal, mayReplace } });
}

export function onOpen(ctx: SessionContext, reqid: number, filename: string, flags: number): void {
  handleRequest(ctx, reqid, 'open', filename, async () => {
    // Taken before any descriptor is opened: a flood of pipelined OPENs stops at the limits.
    const slot = ctx.handles.reserve();
    let h: FileHandle | undefined;
    try {
      const path = ctx.jail.resolve(filename);
      await ctx.jail.assertNoSymlinks(path);
      const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) !== 0;
      h = writing ? await openForUpload(ctx, path, flags) : await openForRead(ctx, path);
      h.slot = slot;
      const id = register(ctx, h);
      safely(() => ctx.sftp.handle(reqid, id));
    } catch (err) {
      // Opened, but the session ended meanwhile: nobody else will close it.
      if (h) await abandon(ctx, h).catch(() => undefined);
      slot.release();
      throw err;
    }
  });
}

export function onRead(ctx: SessionContext, reqid: number, id: Buffer, offset: number, length: number): void {
  handleRequest(ctx, reqid, 'read', undefined, async () => {
    const h = fileHandle(ctx, id);
    if (h.mode !== 'read') throw new FluxgateError('FG_PERMISSION_DENIED', 'this file is open for upload, not for reading');
    const buffer = Buffer.allocUnsafe(Math.min(length, MAX_READ));
    const bytes = await new Promise<number>((resolve, reject) => read(h.fd, buffer, 0, buffer.length, offset, (err, n) => (err ? reject(err) : resolve(n))));
    if (bytes === 0) return safely(() => ctx.sftp.status(reqid, STATUS.EOF));
    h.bytes += bytes;
    safely(() => ctx.sftp.data(reqid, buffer.subarray(0, bytes)));
    ctx.events.signal({ type: 'download', bytes });
  });
}

export function onFstat(ctx: SessionContext, reqid: number, id: Buffer): void {
  handleRequest(ctx, reqid, 'fstat', undefined, async () => {
    const h = fileHandle(ctx, id);
    await h.writer?.drain();
    const st = await fstatAsync(h.fd);
    safely(() => ctx.sftp.attrs(reqid, toAttrs(st)));
  });
}

/**
 * SETSTAT and FSETSTAT change nothing (clients send them after uploads and fail if refused):
 * permissions and times are accepted and ignored, files keep sftp.fileMode. Refused: ownership,
 * and a size other than the file's (a truncate or extension the server would not apply).
 */
export function checkSetstat(attrs: Attributes, path: JailedPath, size: number): void {
  if (attrs.uid !== undefined || attrs.gid !== undefined) {
    throw new FluxgateError('FG_PERMISSION_DENIED', 'ownership cannot be changed', { path: path.virtual });
  }
  if (attrs.size !== undefined && attrs.size !== size) {
    throw new FluxgateError('FG_PERMISSION_DENIED',
      `${path.virtual} is ${size} bytes: changing a file's size (truncate) is not supported; upload the file again instead`, { path: path.virtual });
  }
}

/** FSETSTAT: see checkSetstat; an upload's size is what it has accepted so far. */
export function onFsetstat(ctx: SessionContext, reqid: number, id: Buffer, attrs: Attributes): void {
  handleRequest(ctx, reqid, 'fsetstat', undefined, async () => {
    const h = fileHandle(ctx, id);
    const size = h.mode === 'write' || attrs.size === undefined ? h.end : (await fstatAsync(h.fd)).size;
    checkSetstat(attrs, h.path, size);
    ctx.audit.debug({ op: 'fsetstat', path: h.path.virtual }, 'setstat ignored');
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
  });
}

export function onClose(ctx: SessionContext, reqid: number, id: Buffer): void {
  const h = ctx.handles.take(id);
  if (!h) return safely(() => ctx.sftp.status(reqid, STATUS.FAILURE, 'invalid handle'));
  if (h.kind === 'dir') return safely(() => ctx.sftp.status(reqid, STATUS.OK));
  handleRequest(ctx, reqid, 'close', h.path.virtual, async () => {
    if (h.mode === 'read') {
      await closeAsync(h.fd).finally(() => h.slot?.release());
      ctx.audit.info({ op: 'download', path: h.path.virtual, bytes: h.bytes }, 'download');
      return safely(() => ctx.sftp.status(reqid, STATUS.OK));
    }
    try {
      await completeUpload(ctx, h);
    } finally {
      h.releaseHeadroom?.();
      h.slot?.release();
      // Only now (written, closed, published or discarded) may another session write, rename or remove it.
      ctx.handles.openFiles.release(h.path, h.claim);
    }
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
  });
}

