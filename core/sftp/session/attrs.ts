import type { Stats } from 'node:fs';
import { utils, type Attributes } from 'ssh2';
import { isFluxgateError } from '../../errors';

export const STATUS = utils.sftp.STATUS_CODE;
export const OPEN_MODE = utils.sftp.OPEN_MODE;

export function toAttrs(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function modeString(mode: number): string {
  const type = (mode & 0o170000) === 0o040000 ? 'd' : (mode & 0o170000) === 0o120000 ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let perms = '';
  for (let i = 0; i < 9; i++) perms += mode & (1 << (8 - i)) ? bits[i] : '-';
  return type + perms;
}

/** An `ls -l` style line, which OpenSSH's `ls -l` prints as is. */
export function longname(name: string, st: Stats, owner: string): string {
  const d = st.mtime;
  const recent = Math.abs(Date.now() - st.mtimeMs) < 180 * 86_400_000;
  const when = recent
    ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    : ` ${d.getUTCFullYear()}`;
  const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${when}`;
  return `${modeString(st.mode)}    1 ${owner.padEnd(8)} ${owner.padEnd(8)} ${String(st.size).padStart(12)} ${date} ${name}`;
}

/** Maps anything thrown by a request handler onto an SFTP status code. */
export function statusFor(err: unknown): number {
  if (isFluxgateError(err)) {
    switch (err.code) {
      case 'FG_NO_SUCH_FILE': return STATUS.NO_SUCH_FILE;
      case 'FG_PERMISSION_DENIED':
      case 'FG_PATH_ESCAPE':
      case 'FG_PATH_INVALID':
      case 'FG_FILE_EXISTS':
        return STATUS.PERMISSION_DENIED;
      default: return STATUS.FAILURE;
    }
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return STATUS.PERMISSION_DENIED;
  return STATUS.FAILURE;
}

/** The message sent to the client: ours are meant for users; system errors are summarized. */
export function messageFor(err: unknown): string {
  if (isFluxgateError(err)) return err.message;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file or directory';
  if (code === 'ENOSPC') return 'the server is out of disk space';
  if (code === 'EMFILE' || code === 'ENFILE') return 'the server has too many open files: try again in a moment';
  return 'the operation failed on the server';
}
