import type { Dir } from 'node:fs';
import { FluxgateError } from '../../errors';
import { limitError, type ResourceLimits, type Slot } from '../limits';
import type { JailedPath } from '../path-jail';
import type { WriteBuffer } from './write-buffer';

export interface Upload {
  /** The name the file gets when complete. */
  final: JailedPath;
  /** Direct uploads are written under a hidden temporary name; a .filepart is written in place. */
  tempReal?: string;
  mayReplace: boolean;
}

export interface FileHandle {
  kind: 'file';
  fd: number;
  path: JailedPath;
  mode: 'read' | 'write';
  upload?: Upload;
  /** Write handles gather WRITE requests here; CLOSE drains it. */
  writer?: WriteBuffer;
  /** Bytes read (read handles). */
  bytes: number;
  /**
   * Write handles: the size the file will have once what was accepted is written (its size at
   * OPEN, then the furthest end of a WRITE); the upload limits are checked against it. 0 for reads.
   */
  end: number;
  /** Write handles: opened with APPEND, where the kernel ignores WRITE offsets (OpenSSH `reput`). */
  append?: boolean;
  /** Write handles: ends this upload's hold on the heap headroom (upload-heap.ts); idempotent. */
  releaseHeadroom?: () => void;
  /** Write handles: its claim on `path` in the server's OpenFiles, released once the file is closed. */
  claim?: WriteClaim;
  /** Its place under the handle limits (HandleTable.reserve), given back once `fd` is closed. */
  slot?: Slot;
}

export interface DirHandle {
  kind: 'dir';
  path: JailedPath;
  /** Read a page per READDIR (dir-requests.ts); closed at the end of the listing or at CLOSE. */
  dir?: Dir;
  /** Entries sent so far. */
  listed: number;
  /** The listing has ended (EOF sent, `dir` closed). */
  done: boolean;
  /** The READDIR being answered: a handle's pages are read one after another. */
  reading?: Promise<unknown>;
  slot?: Slot;
}

export type Handle = FileHandle | DirHandle;

/**
 * Who holds a path in OpenFiles: an upload (for as long as its handle is open), or a rename
 * (its source, and as `rename-onto` its target) or a remove while the request runs.
 */
export interface WriteClaim {
  session: HandleTable;
  op: 'upload' | 'rename' | 'rename-onto' | 'remove';
  /** An upload's handle, once open (SETSTAT of its path compares sizes with it). */
  handle?: FileHandle;
}

export class OpenFiles {
  private readonly claims = new Map<string, WriteClaim>();

  get size(): number { return this.claims.size; }

  /** Claims `path` for `claim`, or throws FG_PERMISSION_DENIED naming what holds it. */
  claim(path: JailedPath, claim: WriteClaim): WriteClaim {
    const holder = this.claims.get(path.real);
    if (holder) throw busy(path, holder, claim);
    this.claims.set(path.real, claim);
    return claim;
  }

  /** Releases the claim (if it is still the holder); idempotent. */
  release(path: JailedPath, claim: WriteClaim | undefined): void {
    if (claim && this.claims.get(path.real) === claim) this.claims.delete(path.real);
  }

  /** The upload claim on `path`, if a handle is writing it. */
  upload(path: JailedPath): WriteClaim | undefined {
    const holder = this.claims.get(path.real);
    return holder?.op === 'upload' ? holder : undefined;
  }
}

const WANTED: Record<WriteClaim['op'], string> = {
  upload: 'it cannot be opened for writing',
  rename: 'it cannot be renamed',
  'rename-onto': 'nothing can be renamed onto it',
  remove: 'it cannot be removed',
};

function busy(path: JailedPath, holder: WriteClaim, wanted: WriteClaim): FluxgateError {
  let message: string;
  if (holder.op !== 'upload') {
    message = `${path.virtual} is being ${holder.op === 'remove' ? 'removed' : 'renamed'}: try again in a moment`;
  } else if (holder.session !== wanted.session) {
    message = `${path.virtual} is being written by another session: ${WANTED[wanted.op]} until that upload is closed`;
  } else if (wanted.op === 'upload') {
    message = `${path.virtual} is already open for writing in this session`;
  } else {
    message = `${path.virtual} is still open in this session: close it before ${wanted.op === 'remove' ? 'removing it' : 'renaming'}`;
  }
  return new FluxgateError('FG_PERMISSION_DENIED', message, { path: path.virtual });
}

/**
 * One instance per server process: the SFTP service's sessions all see it (connection.ts makes
 * each session's HandleTable with the default). Keyed by real path, so it stays right with
 * several servers in one process (tests) or several accounts.
 */
export const SERVER_OPEN_FILES = new OpenFiles();

/** Whose handles a session's are, for the account's and the server's limits. */
export interface HandleOwner {
  accountId: string;
  limits: ResourceLimits;
}

/** The open handles of one SFTP session; handles are opaque 4-byte ids. */
export class HandleTable {
  private readonly handles = new Map<string, Handle>();
  private next = 1;
  /** Handles open plus those being opened (reserved, descriptor not yet open or not yet added). */
  private reserved = 0;
  private ended = false;

  constructor(readonly max = 256, readonly openFiles: OpenFiles = SERVER_OPEN_FILES, private readonly owner?: HandleOwner) {}

  get size(): number { return this.handles.size; }

  /**
   * A place for one more handle under the session's, the account's and the server's limits,
   * taken before its descriptor is opened, so a flood of pipelined OPENs never opens more than
   * the limits allow. Throws FG_LIMIT naming the limit reached. The slot is released once the
   * handle's descriptor is closed (or the open failed).
   */
  reserve(): Slot {
    if (this.reserved >= this.max) {
      throw limitError(`too many open handles (limit ${this.max} per session): close some before opening more`, 'handlesPerSession', this.max);
    }
    const shared = this.owner?.limits.reserveHandle(this.owner.accountId);
    this.reserved++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.reserved--;
        shared?.release();
      },
    };
  }

  /**
   * Adds a handle whose place was reserved (reserve()). Throws once the session has ended
   * (drain()): an OPEN that finishes after its client left must close what it opened itself.
   */
  add(handle: Handle): Buffer {
    if (this.ended) throw new FluxgateError('FG_INVALID_VALUE', 'the session has ended');
    const id = Buffer.alloc(4);
    id.writeUInt32BE(this.next);
    this.next = this.next >= 0xffffffff ? 1 : this.next + 1;
    this.handles.set(id.toString('hex'), handle);
    return id;
  }

  get(id: Buffer): Handle | undefined { return this.handles.get(id.toString('hex')); }

  take(id: Buffer): Handle | undefined {
    const key = id.toString('hex');
    const handle = this.handles.get(key);
    this.handles.delete(key);
    return handle;
  }

  /** Starts writing what every upload of the session has gathered (the write gate paused the socket). */
  flushWriters(): void {
    for (const h of this.handles.values()) if (h.kind === 'file') h.writer?.flush();
  }

  /** The session ended: returns its handles, for closing; none can be added any more. */
  drain(): Handle[] {
    this.ended = true;
    const all = [...this.handles.values()];
    this.handles.clear();
    return all;
  }
}
