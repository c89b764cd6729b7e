import { posix } from 'node:path';
import { FluxgateError } from '../errors';
import type { AccountProfile } from '../store/accounts-repository';
import { FILEPART_SUFFIX, isHiddenName } from '../upload-names';
import type { JailedPath } from './path-jail';

/**
 * What a client may do where, per account profile. Each check throws FG_PERMISSION_DENIED with
 * a message that tells the client what is allowed instead. Checks work on paths only; whether
 * a file exists or is complete is for the caller to look up.
 */
export interface AccessPolicy {
  readonly profile: AccountProfile;
  /** Whether directory listings show entries at all (a drop-box shows nothing). */
  readonly listingsVisible: boolean;
  /** OPENDIR/READDIR of a directory. */
  list(dir: JailedPath): void;
  /** Open an existing file for reading. */
  read(file: JailedPath): void;
  /** Upload a new file (or a .filepart); returns whether an existing completed file may be replaced. */
  upload(file: JailedPath): { mayReplace: boolean };
  remove(file: JailedPath): void;
  /** Renaming is only ever completing an upload: `x.filepart` → a final name in the same directory. */
  rename(from: JailedPath, to: JailedPath): void;
  /** Whether a completed upload here is announced for processing (dev/ is never processed). */
  announces(file: JailedPath): boolean;
}

export const isFilepart = (p: JailedPath): boolean => p.name.endsWith(FILEPART_SUFFIX) && p.name.length > FILEPART_SUFFIX.length;

const deny = (message: string, path?: JailedPath): never => {
  throw new FluxgateError('FG_PERMISSION_DENIED', message, path ? { path: path.virtual } : {});
};

/**
 * Where uploads are processed, a hidden name (leading dot) would be accepted and never received:
 * intake ignores such names (upload-names.ts). The server's own temporary names never come here.
 */
function refuseHidden(file: JailedPath): void {
  if (!isHiddenName(file.name)) {
    if (file.segments.some(isHiddenName)) deny('files under a hidden directory (leading ".") are never processed: upload into in/<flux>/', file);
    return;
  }
  const visible = file.name.replace(/^\.+/, '');
  deny(`names starting with "." are hidden and would never be processed: ${visible ? `upload as "${visible}" instead` : 'use a name that does not start with "."'}`, file);
}

/** Shared rule: only `x.filepart` → `y` within one directory, never onto another partial name. */
function checkCompletingRename(from: JailedPath, to: JailedPath): void {
  if (!isFilepart(from)) deny('only an unfinished upload (.filepart) can be renamed, to its final name', from);
  if (posix.dirname(from.virtual) !== posix.dirname(to.virtual)) deny('a .filepart can only be renamed within its directory', to);
  if (isFilepart(to)) deny('the new name must be the final name, not another .filepart', to);
}

/** The exchange profile: in/ write-only for uploads, out/ read and delete, dev/ scratch. */
export class ExchangePolicy implements AccessPolicy {
  readonly profile = 'exchange' as const;
  readonly listingsVisible = true;

  private area(p: JailedPath): 'root' | 'in' | 'out' | 'dev' | 'other' {
    if (p.segments.length === 0) return 'root';
    const top = p.segments[0];
    return top === 'in' || top === 'out' || top === 'dev' ? top : 'other';
  }

  list(): void { /* every directory of the tree may be listed */ }

  read(file: JailedPath): void {
    const area = this.area(file);
    if ((area === 'out' || area === 'dev') && file.segments.length >= 2) return;
    if (area === 'in') deny('files in in/ cannot be read back: reports and receipts are in out/', file);
    deny('nothing to read here: reports and receipts are in out/', file);
  }

  upload(file: JailedPath): { mayReplace: boolean } {
    const area = this.area(file);
    if (file.segments.length >= 2 && area === 'in') {
      refuseHidden(file);
      return { mayReplace: false };
    }
    if (file.segments.length >= 2 && area === 'dev') return { mayReplace: true };
    if (area === 'out') deny('out/ is read-only: upload into in/<flux>/', file);
    return deny('uploads go into in/<flux>/ (or dev/ for tests), not here', file);
  }

  remove(file: JailedPath): void {
    const area = this.area(file);
    if ((area === 'out' || area === 'dev') && file.segments.length >= 2) return;
    if (area === 'in' && isFilepart(file)) return;
    if (area === 'in') deny('a completed file in in/ belongs to the server and cannot be deleted', file);
    deny('nothing can be deleted here', file);
  }

  rename(from: JailedPath, to: JailedPath): void {
    const area = this.area(from);
    if ((area !== 'in' && area !== 'dev') || from.segments.length < 2) deny('files cannot be renamed here', from);
    checkCompletingRename(from, to);
    if (area === 'in') refuseHidden(to);
  }

  announces(file: JailedPath): boolean {
    return this.area(file) === 'in';
  }
}

/** The drop-box profile: upload-only (PUT) at `/`; nothing can be listed, read or deleted. */
export class DropboxPolicy implements AccessPolicy {
  readonly profile = 'dropbox' as const;
  readonly listingsVisible = false;

  list(): void { /* allowed, but shows nothing */ }

  read(file: JailedPath): void { deny('this is an upload-only drop-box: files cannot be read', file); }

  upload(file: JailedPath): { mayReplace: boolean } {
    if (file.segments.length !== 1) deny('upload into / (this drop-box has no folders)', file);
    refuseHidden(file);
    return { mayReplace: false };
  }

  remove(file: JailedPath): void { deny('this is an upload-only drop-box: files cannot be deleted', file); }

  rename(from: JailedPath, to: JailedPath): void {
    if (from.segments.length !== 1) deny('files cannot be renamed here', from);
    checkCompletingRename(from, to);
    refuseHidden(to);
  }

  announces(): boolean { return true; }
}

export function policyFor(profile: AccountProfile): AccessPolicy {
  return profile === 'dropbox' ? new DropboxPolicy() : new ExchangePolicy();
}
