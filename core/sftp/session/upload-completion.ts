import { close, fdatasync, fstat } from 'node:fs';
import { promisify } from 'node:util';
import type { JailedPath } from '../path-jail';
import type { SessionContext } from './context';
import type { FileHandle } from './handles';
import { SERVER_FAILED_UPLOADS, uploadFailure } from './upload-failures';
import { discard, publish } from './uploads';
import { markFailed } from './write-requests';

const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const fdatasyncAsync = promisify(fdatasync);

/**
 * CLOSE of an upload: waits until every accepted byte is written and flushed, then publishes a
 * direct upload under its final name. Any write error, refused WRITE or failed flush fails the
 * CLOSE: a direct upload's temporary file is deleted, a `.filepart` is marked failed (its RENAME
 * is refused). The login is re-checked last, right before publishing, so an account disabled
 * (or a key removed) while the upload was written never gets it published.
 */
export async function completeUpload(ctx: SessionContext, h: FileHandle): Promise<void> {
  const upload = h.upload!;
  const writer = h.writer!;
  let size: number;
  let closing = false;
  try {
    await writer.drain();
    if (writer.failed) throw uploadFailure(h.path, writer.failed);
    // The receipt will claim the file was received: make sure it is on disk first.
    if (ctx.sftpConfig.fsyncUploads) await fdatasyncAsync(h.fd).catch((err: unknown) => { throw uploadFailure(h.path, err); });
    size = (await fstatAsync(h.fd)).size;
    closing = true;
    // Its error too fails the upload (a network file system reports lost writes here).
    await closeAsync(h.fd);
  } catch (err) {
    if (!closing) await closeAsync(h.fd).catch(() => undefined);
    if (upload.tempReal) await discard(upload.tempReal);
    else markFailed(h, err);
    ctx.audit.warn({ op: 'upload', path: h.path.virtual, bytes: writer.bytes }, 'upload failed, nothing kept under the final name');
    throw err;
  }
  if (!upload.tempReal) {
    // Everything this handle accepted is written: a failure of an earlier attempt no longer stands.
    SERVER_FAILED_UPLOADS.clear(h.path);
    ctx.audit.info({ op: 'upload', path: h.path.virtual, size, partial: true }, 'upload partial closed');
    return;
  }
  try {
    await ctx.recheck();
    await publish(upload.tempReal, upload.final, upload.mayReplace);
  } catch (err) {
    await discard(upload.tempReal);
    throw err;
  }
  announceUpload(ctx, upload.final, size);
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
    ctx.events.completed({ accountId: ctx.accountId, path: path.segments.join('/'), absolutePath: path.real, size, client: ctx.client });
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
    h.slot?.release();
    ctx.handles.openFiles.release(h.path, h.claim);
  }
  if (h.mode === 'write') {
    ctx.audit.warn({ op: 'upload', path: h.path.virtual, bytes: h.writer?.bytes, partial: !h.upload?.tempReal }, 'upload interrupted');
  }
}
