import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * The naming contract between whatever writes into an account tree (the SFTP server, or a
 * co-located OpenSSH) and whatever reads it (intake, retention): names that are not yet files.
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
  return m ? { pid: Number(m[1]), host: m[2]! } : undefined;
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
