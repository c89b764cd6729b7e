import { FluxgateError, isFluxgateError } from '../../errors';
import { isFilepart } from '../permissions';
import { STATUS, statusFor } from './attrs';
import type { SessionContext } from './context';
import type { FileHandle } from './handles';
import { safely } from './reply';
import { sendOkStatuses } from './raw-replies';
import { SERVER_FAILED_UPLOADS, failureReason, uploadFailure } from './upload-failures';
import { WriteBuffer } from './write-buffer';
import { noteUploadBytes } from './upload-scavenge';

/**
 * How far past the file's current end a WRITE may start. Clients write in order (OpenSSH sftp,
 * paramiko, WinSCP-like clients pipeline a few MiB at most, and their requests arrive in order on
 * the channel); a WRITE far beyond the end would only make a sparse file (and intake hash the hole).
 */
export const MAX_WRITE_AHEAD = 64 * 1024 * 1024;

export function onWrite(ctx: SessionContext, reqid: number, id: Buffer, offset: number, data: Buffer): void {
  onWritePieces(ctx, reqid, id, offset, [data], data.length);
}

/**
 * A WRITE whose data is in `pieces` (views of what ssh2 decrypted, see write-framing.ts). It is
 * answered once its data is written (WriteBuffer's settle): OK only for bytes the kernel took.
 */
export function onWritePieces(ctx: SessionContext, reqid: number, id: Buffer, offset: number, pieces: readonly Buffer[], length: number): void {
  const h = ctx.handles.get(id);
  if (!h || h.kind !== 'file' || !h.writer) {
    safely(() => ctx.sftp.status(reqid, h ? STATUS.PERMISSION_DENIED : STATUS.FAILURE, h ? 'this file is open for reading only' : 'invalid handle'));
    return;
  }
  if (h.writer.failed) {
    // The upload is already lost (e.g. disk full, or a WRITE refused below): say so now rather than at CLOSE.
    const failure = uploadFailure(h.path, h.writer.failed);
    safely(() => ctx.sftp.status(reqid, statusFor(failure), failure.message));
    return;
  }
  // The upload limits: integer comparisons only. With APPEND the kernel writes at the end, whatever the offset.
  const at = h.append ? h.end : offset;
  const end = at + length;
  if (at > h.end + MAX_WRITE_AHEAD || end > ctx.sftpConfig.maxUploadBytes) return refuseWrite(ctx, reqid, h, at, end);
  if (end > h.end) h.end = end;
  // Counted until on disk: past sftp.maxInflightWrites, or INFLIGHT_WRITE_BYTES, the socket stops being read.
  ctx.writes.acquire(1, length);
  noteUploadBytes(length);
  h.writer.addPieces(reqid, offset, pieces, length);
}

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
  markFailed(h, err);
  ctx.audit.warn({ op: 'write', path: h.path.virtual, code: err.code, reason: err.message, offset: at, end }, 'denied');
  safely(() => ctx.sftp.status(reqid, statusFor(err), err.message));
}

const mib = (n: number): string => (n >= 1024 ** 3 && n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : `${Math.round((n / 1024 ** 2) * 10) / 10} MiB`);

/** A `.filepart` that lost data can no longer be renamed to its final name (see FailedUploads). */
export function markFailed(h: FileHandle, err: unknown): void {
  if (isFilepart(h.path)) SERVER_FAILED_UPLOADS.mark(h.path, failureReason(err));
}

/** The write side of an upload handle: WRITEs are answered as their data reaches the file. */
export function attachWriter(ctx: SessionContext, h: FileHandle): FileHandle {
  let logged = false;
  h.writer = new WriteBuffer(h.fd, (requests, error, bytes) => {
    ctx.writes.release(requests.length, bytes);
    // A refused WRITE was logged when refused; a disk error is logged once, here.
    if (error && !logged && !isFluxgateError(error)) {
      logged = true;
      markFailed(h, error);
      ctx.audit.error({ op: 'write', path: h.path.virtual, code: error.code, err: error.message, accepted: h.writer?.bytes }, 'write failed');
    }
    const failure = error && uploadFailure(h.path, error);
    // The run's OKs as one SSH packet (2-5 per 512 KiB run of OpenSSH's 255 KiB WRITEs, 16 or
    // more of 32 KiB ones): one encryption and one TCP segment for the client to wake up to.
    let sent = false;
    if (!failure) safely(() => { sent = sendOkStatuses(ctx.sftp, requests); });
    if (sent) return;
    for (const reqid of requests) {
      safely(() => (failure ? ctx.sftp.status(reqid, statusFor(failure), failure.message) : ctx.sftp.status(reqid, STATUS.OK)));
    }
  }, { sync: ctx.sftpConfig.fsyncUploads, append: h.append });
  return h;
}
