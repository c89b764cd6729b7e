import { constants, type Stats, close, fdatasync, fstat, open, read } from 'node:fs';
import { chmod, copyFile, lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Attributes } from 'ssh2';
import { FluxgateError, isFluxgateError } from '../../errors';
import type { JailedPath } from '../path-jail';
import { isFilepart } from '../permissions';
import { OPEN_MODE, STATUS, statusFor, toAttrs } from './attrs';
import type { SessionContext } from './context';
import type { FileHandle } from './handles';
import { handleRequest, safely } from './reply';
import { holdUploadHeadroom } from './upload-heap';
import { discard, publish, tempPathFor } from './uploads';
import { WriteBuffer } from './write-buffer';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const fdatasyncAsync = promisify(fdatasync);
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
  const id = ctx.handles.add(h);
  if (!id) {
    close(h.fd, () => undefined);
    if (h.upload?.tempReal) void discard(h.upload.tempReal);
    ctx.handles.openFiles.release(h.path, h.claim);
    throw new FluxgateError('FG_PERMISSION_DENIED', 'too many open files in this session');
  }
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
    const h = await openClaimed(ctx, path, flags, mayReplace);
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
  const existing = await lstatOrUndefined(path.real);
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
    return { kind: 'file', fd, path, mode: 'write', bytes: 0, end, append, writer: writerFor(ctx, fd, append), upload: { final: path, mayReplace: true } };
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
  return { kind: 'file', fd, path, mode: 'write', bytes: 0, end, append, writer: writerFor(ctx, fd, append), upload: { final: path, tempReal, mayReplace } };
}

export function onOpen(ctx: SessionContext, reqid: number, filename: string, flags: number): void {
  handleRequest(ctx, reqid, 'open', filename, async () => {
    const path = ctx.jail.resolve(filename);
    await ctx.jail.assertNoSymlinks(path);
    const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) !== 0;
    const h = writing ? await openForUpload(ctx, path, flags) : await openForRead(ctx, path);
    const id = register(ctx, h);
    safely(() => ctx.sftp.handle(reqid, id));
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

export function onWrite(ctx: SessionContext, reqid: number, id: Buffer, offset: number, data: Buffer): void {
  onWritePieces(ctx, reqid, id, offset, [data], data.length);
}

/** A WRITE whose data is in `pieces` (views of what ssh2 decrypted, see write-framing.ts). */
export function onWritePieces(ctx: SessionContext, reqid: number, id: Buffer, offset: number, pieces: readonly Buffer[], length: number): void {
  const h = ctx.handles.get(id);
  if (!h || h.kind !== 'file' || !h.writer) {
    safely(() => ctx.sftp.status(reqid, h ? STATUS.PERMISSION_DENIED : STATUS.FAILURE, h ? 'this file is open for reading only' : 'invalid handle'));
    return;
  }
  if (h.writer.failed) {
    // The upload is already lost (e.g. disk full, or a WRITE refused below): say so now rather than at CLOSE.
    const failed = h.writer.failed;
    if (isFluxgateError(failed)) safely(() => ctx.sftp.status(reqid, statusFor(failed), failed.message));
    else safely(() => ctx.sftp.status(reqid, STATUS.FAILURE, failed.code === 'ENOSPC' ? 'the server is out of disk space' : 'write failed'));
    return;
  }
  // The upload limits: integer comparisons only. With APPEND the kernel writes at the end, whatever the offset.
  const at = h.append ? h.end : offset;
  const end = at + length;
  if (at > h.end + MAX_WRITE_AHEAD || end > ctx.sftpConfig.maxUploadBytes) return refuseWrite(ctx, reqid, h, at, end);
  if (end > h.end) h.end = end;
  // Counted until on disk: past sftp.maxInflightWrites the socket stops being read.
  ctx.writes.acquire();
  h.writer.addPieces(offset, pieces, length);
  safely(() => ctx.sftp.status(reqid, STATUS.OK));
}

/**
 * How far past the file's current end a WRITE may start. Clients write in order (OpenSSH sftp,
 * paramiko, WinSCP-like clients pipeline a few MiB at most, and their requests arrive in order on
 * the channel); a WRITE far beyond the end would only make a sparse file (and intake hash the hole).
 */
export const MAX_WRITE_AHEAD = 64 * 1024 * 1024;

/** A WRITE past the upload limits: refused, and the upload failed (CLOSE fails, nothing is published). */
function refuseWrite(ctx: SessionContext, reqid: number, h: FileHandle, at: number, end: number): void {
  const limit = ctx.sftpConfig.maxUploadBytes;
  const err = at > h.end + MAX_WRITE_AHEAD
    ? new FluxgateError('FG_PERMISSION_DENIED',
      `a write at offset ${at} would leave a gap of ${at - h.end} bytes after the end of ${h.path.virtual} (${h.end} bytes; at most ${mib(MAX_WRITE_AHEAD)} ahead): write the file in order`,
      { path: h.path.virtual })
    : new FluxgateError('FG_PERMISSION_DENIED',
      `${h.path.virtual} would be larger than the maximum upload size of ${limit} bytes (${mib(limit)}): the upload is refused; split the file or ask the operator (sftp.maxUploadBytes)`,
      { path: h.path.virtual });
  // Remembered as the upload's failure: its CLOSE fails too and it is never published.
  h.writer!.failed ??= err;
  ctx.audit.warn({ op: 'write', path: h.path.virtual, code: err.code, reason: err.message, offset: at, end }, 'denied');
  safely(() => ctx.sftp.status(reqid, statusFor(err), err.message));
}

const mib = (n: number): string => (n >= 1024 ** 3 && n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : `${Math.round((n / 1024 ** 2) * 10) / 10} MiB`);

function writerFor(ctx: SessionContext, fd: number, append = false): WriteBuffer {
  return new WriteBuffer(fd, (requests) => ctx.writes.release(requests), {
    sync: ctx.sftpConfig.fsyncUploads, append, pressured: () => ctx.writes.pressured,
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
      await closeAsync(h.fd);
      ctx.audit.info({ op: 'download', path: h.path.virtual, bytes: h.bytes }, 'download');
      return safely(() => ctx.sftp.status(reqid, STATUS.OK));
    }
    try {
      await completeUpload(ctx, h);
    } finally {
      h.releaseHeadroom?.();
      // Only now (written, closed, published or discarded) may another session write, rename or remove it.
      ctx.handles.openFiles.release(h.path, h.claim);
    }
    safely(() => ctx.sftp.status(reqid, STATUS.OK));
  });
}

async function completeUpload(ctx: SessionContext, h: FileHandle): Promise<void> {
  const upload = h.upload!;
  const writer = h.writer!;
  try {
    await writer.drain();
    if (writer.failed) {
      // A refused WRITE was logged when refused; a disk error is logged here.
      if (!isFluxgateError(writer.failed)) ctx.audit.error({ op: 'write', path: h.path.virtual, err: writer.failed }, 'write failed');
      throw writer.failed;
    }
    // The receipt will claim the file was received: make sure it is on disk first.
    if (ctx.sftpConfig.fsyncUploads) await fdatasyncAsync(h.fd);
  } catch (err) {
    await closeAsync(h.fd).catch(() => undefined);
    if (upload.tempReal) await discard(upload.tempReal);
    ctx.audit.warn({ op: 'upload', path: h.path.virtual, bytes: writer.bytes }, 'upload failed, nothing kept under the final name');
    throw err;
  }
  const st = await fstatAsync(h.fd);
  await closeAsync(h.fd);
  if (!upload.tempReal) {
    ctx.audit.info({ op: 'upload', path: h.path.virtual, size: st.size, partial: true }, 'upload partial closed');
    return;
  }
  try {
    await publish(upload.tempReal, upload.final, upload.mayReplace);
  } catch (err) {
    await discard(upload.tempReal);
    throw err;
  }
  announceUpload(ctx, upload.final, st.size);
}

/** Logs the completed upload and, where files are processed, announces it (intake listens). */
export function announceUpload(ctx: SessionContext, path: JailedPath, size: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (ctx.recentUploads.size >= 1000) ctx.recentUploads.delete(ctx.recentUploads.keys().next().value!);
  ctx.recentUploads.set(path.virtual, { mode: 0o100000 | ctx.sftpConfig.fileMode, uid: 0, gid: 0, size, atime: now, mtime: now });
  const announced = ctx.policy.announces(path);
  ctx.audit.info({ op: 'upload', path: path.virtual, size, announced }, 'upload complete');
  if (!announced) return;
  try {
    ctx.events.completed({ accountId: ctx.accountId, path: path.segments.join('/'), absolutePath: path.real, size });
  } catch (err) {
    // A listener's failure must not fail the client's upload: the watcher will still find the file.
    ctx.audit.error({ op: 'upload', path: path.virtual, err }, 'upload listener failed');
  }
}

/** Session end: closes what is open; direct uploads never completed are deleted (never published). */
export async function abandon(ctx: SessionContext, h: FileHandle): Promise<void> {
  // Whatever was acknowledged is written: a .filepart keeps it for a resume.
  try {
    try {
      await h.writer?.drain();
    } finally {
      h.releaseHeadroom?.();
    }
    await closeAsync(h.fd).catch(() => undefined);
    if (h.upload?.tempReal) await discard(h.upload.tempReal);
  } finally {
    ctx.handles.openFiles.release(h.path, h.claim);
  }
  if (h.mode === 'write') {
    ctx.audit.warn({ op: 'upload', path: h.path.virtual, bytes: h.writer?.bytes, partial: !h.upload?.tempReal }, 'upload interrupted');
  }
}
