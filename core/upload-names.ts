import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * The naming contract between whatever writes into an account tree (the SFTP server, or a
 * co-located OpenSSH) and whatever reads it (intake, retention, the SFTP listing, the start-up
 * sweep): names that are not yet files.
 */
export const FILEPART_SUFFIX = '.filepart';
/** Direct uploads (no .filepart) are written under this hidden prefix until the client closes them. */
export const TEMP_UPLOAD_PREFIX = '.fg-upload-';

export function isPartialUpload(name: string): boolean {
  return name.endsWith(FILEPART_SUFFIX) || name.startsWith(TEMP_UPLOAD_PREFIX);
}

/** The process that writes a temporary upload: its pid, and a short hash of its host's name. */
export interface TempUploadOwner {
  pid: number;
  host: string;
}

export function hostTag(name = hostname()): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

const THIS_PROCESS: TempUploadOwner = { pid: process.pid, host: hostTag() };

/**
 * `.fg-upload-<pid>.<host>.<nonce>-<final name>`: the owner in the name tells, at the next
 * start-up, a temporary file whose writer is gone (removed) from one still being written.
 */
export function tempUploadName(finalName: string, nonce: string, owner: TempUploadOwner = THIS_PROCESS): string {
  return `${TEMP_UPLOAD_PREFIX}${owner.pid}.${owner.host}.${nonce}-${finalName}`;
}

const OWNED = /^\.fg-upload-(\d+)\.([0-9a-f]{8})\.[0-9a-f]+-/;

/** The owner written in a temporary upload name; undefined for names of versions before it was. */
export function tempUploadOwner(name: string): TempUploadOwner | undefined {
  const m = OWNED.exec(name);
  return m ? { pid: Number(m[1]), host: m[2] } : undefined;
}

/**
 * Hidden names (a leading dot, which includes the temporary upload names): intake never takes
 * them, nor anything under a hidden directory (core/intake: acceptedPath, and through
 * isNeverTaken the watcher and the scan).
 * The SFTP server refuses them as upload and rename targets where files are processed, so that
 * nothing is accepted there that would never be received.
 */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

/** What intake never takes: hidden names and uploads still being written. */
export function isNeverTaken(name: string): boolean {
  return isHiddenName(name) || isPartialUpload(name);
}

/** Files the engine writes (reports, receipts, signatures, keys) are written under this hidden prefix, then renamed. */
export const TEMP_WRITE_PREFIX = '.fg-tmp-';
/** What earlier versions named their PGP temporaries (signatures, keys): still recognised, so their leftovers are swept. */
const LEGACY_PGP_PREFIX = '.fg-pgp-';

/**
 * Every prefix of the server's own temporary names, in one place: the SFTP listing hides them,
 * the path jail refuses them to clients, and the start-up sweep removes those whose owner is gone.
 */
export const SERVER_TEMPORARY_PREFIXES: readonly string[] = [TEMP_UPLOAD_PREFIX, TEMP_WRITE_PREFIX, LEGACY_PGP_PREFIX];

/** Whether `name` is one of the server's temporaries (never a client's file: clients cannot create these names). */
export function isServerTemporary(name: string): boolean {
  return SERVER_TEMPORARY_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * A hidden temporary name next to `path` for an atomic write (write it, then rename or link it
 * into place): same directory, so the same file system. It carries the writer's pid, so that the
 * start-up sweep can tell a crashed writer's leftover from a live CLI command's file.
 */
export function temporaryNameFor(path: string): string {
  return join(dirname(path), `${TEMP_WRITE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}-${basename(path)}`);
}

/** The pid of the process that made a temporary (`.fg-tmp-<pid>-…`, `.fg-pgp-<pid>-…`), when its name carries one. */
export function temporaryOwnerPid(name: string): number | undefined {
  return temporaryOwner(name)?.pid;
}

/**
 * The writer named in any of the server's temporary names: pid and host tag for uploads
 * (`.fg-upload-<pid>.<host>.…`), pid only for the engine's writes (`.fg-tmp-<pid>-…`);
 * undefined for names of versions that wrote no owner.
 */
export function temporaryOwner(name: string): { pid: number; host?: string } | undefined {
  const upload = tempUploadOwner(name);
  if (upload) return upload;
  const match = /^\.fg-(?:tmp|pgp)-(\d{1,10})-[0-9a-f]{8}-/.exec(name);
  return match ? { pid: Number(match[1]) } : undefined;
}
