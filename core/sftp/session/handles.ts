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
  /** Write handles: ends this upload's hold on the heap headroom (upload-heap.ts); idempotent. */
  releaseHeadroom?: () => void;
}

export interface DirHandle {
  kind: 'dir';
  path: JailedPath;
  entries?: Array<{ filename: string; longname: string; attrs: import('ssh2').Attributes }>;
  position: number;
}

export type Handle = FileHandle | DirHandle;

/** The open handles of one SFTP session; handles are opaque 4-byte ids. */
export class HandleTable {
  private readonly handles = new Map<string, Handle>();
  private next = 1;

  constructor(readonly max = 256) {}

  get size(): number { return this.handles.size; }

  add(handle: Handle): Buffer | undefined {
    if (this.handles.size >= this.max) return undefined;
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

  /** Whether a file is open for writing in this session (it cannot be completed while open). */
  isOpenForWrite(real: string): boolean {
    for (const h of this.handles.values()) if (h.kind === 'file' && h.mode === 'write' && h.path.real === real) return true;
    return false;
  }

  /** Starts writing what every upload of the session has gathered (the write gate paused the socket). */
  flushWriters(): void {
    for (const h of this.handles.values()) if (h.kind === 'file') h.writer?.flush();
  }

  drain(): Handle[] {
    const all = [...this.handles.values()];
    this.handles.clear();
    return all;
  }
}
