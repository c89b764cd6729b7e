import { fdatasync, writev } from 'node:fs';

/** Contiguous WRITE requests are gathered to at least this size and written with one writev(). */
export const RUN_BYTES = 512 * 1024;
/** writev() takes at most IOV_MAX (1024) buffers; one request adds at most MAX_PIECES (64). */
const MAX_CHUNKS = 512;
/** With `sync`, an fdatasync is started in the background after every this many bytes written. */
export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Gathers an upload's contiguous WRITE requests into runs written with one `writev` each:
 * OpenSSH sends 32 KiB writes, and one system call (and thread-pool trip) per 32 KiB costs
 * more CPU than the encryption. One run is written at a time (like OpenSSH's single write
 * loop): thread-pool threads writing the same file at once only queue on its inode lock, and
 * what arrives meanwhile makes the next run longer. Requests are acknowledged when buffered; a failed write is
 * remembered and fails the CLOSE, so a file with a hole is never published.
 * `onWritten(n)` reports n requests on disk (the session's write gate counts them).
 * With `sync` (uploads are fsynced at close), the file is also flushed in the background while
 * data arrives, so the fdatasync at close finds little left to write instead of the whole file.
 * With `append` (the file was opened O_APPEND, e.g. OpenSSH's `reput`), the kernel ignores
 * offsets: all requests form one stream in arrival order (which the one-at-a-time rule keeps).
 */
export class WriteBuffer {
  private chunks: Buffer[] = [];
  private start = 0;
  private length = 0;
  private requests = 0;
  private readonly inflight = new Set<Promise<void>>();
  private unsynced = 0;
  private syncing = false;
  /** The last run handed to writev; the next one waits for it. */
  private previous: Promise<void> = Promise.resolve();
  /** Runs flushed and not yet written. */
  private pending = 0;
  private readonly sync: boolean;
  private readonly append: boolean;
  private readonly pressured: () => boolean;
  failed?: NodeJS.ErrnoException;
  bytes = 0;

  /**
   * `pressured()`: the session's write gate has paused the socket; what is gathered must then be
   * written whatever its size, or small WRITEs (4 KiB x 64 < RUN_BYTES) would wait forever.
   */
  constructor(
    private readonly fd: number,
    private readonly onWritten: (requests: number) => void,
    options: { sync?: boolean; append?: boolean; pressured?: () => boolean } = {},
  ) {
    this.sync = options.sync ?? false;
    this.append = options.append ?? false;
    this.pressured = options.pressured ?? (() => false);
  }

  private runDue(): boolean {
    return this.length > 0 && this.pending === 0 && (this.length >= RUN_BYTES || this.pressured());
  }

  add(offset: number, data: Buffer): void {
    this.addPieces(offset, [data], data.length);
  }

  /** One WRITE request whose data arrived in several pieces (see write-framing.ts), `length` bytes in all. */
  addPieces(offset: number, pieces: readonly Buffer[], length: number): void {
    // Nothing to write (an empty WRITE): done at once, or it would be counted in flight forever.
    if (length === 0) return this.onWritten(1);
    if (this.length > 0 && !this.append && offset !== this.start + this.length) this.flush();
    if (this.length === 0) this.start = offset;
    for (const piece of pieces) this.chunks.push(piece);
    this.length += length;
    this.requests++;
    this.bytes += length;
    if (this.runDue() || this.chunks.length >= MAX_CHUNKS) this.flush();
  }

  /** Queues what is gathered as a run, written after the runs before it. */
  flush(): void {
    if (this.length === 0) return;
    const { chunks, start, requests } = this;
    this.chunks = [];
    this.length = 0;
    this.requests = 0;
    const write = (): Promise<void> => new Promise<void>((resolve) => {
      writev(this.fd, chunks, this.append ? null : start, (err, written) => {
        if (err) this.failed ??= err;
        this.inflight.delete(done);
        this.pending--;
        this.onWritten(requests);
        this.unsynced += written ?? 0;
        this.backgroundSync();
        resolve();
        if (this.runDue()) this.flush();
      });
    });
    this.pending++;
    const done: Promise<void> = this.previous.then(write);
    this.previous = done;
    this.inflight.add(done);
  }

  /** One fdatasync at a time, each covering what was written before it started. */
  private backgroundSync(): void {
    if (!this.sync || this.syncing || this.failed || this.unsynced < SYNC_EVERY_BYTES) return;
    this.syncing = true;
    this.unsynced = 0;
    const done = new Promise<void>((resolve) => {
      fdatasync(this.fd, (err) => {
        if (err) this.failed ??= err;
        this.syncing = false;
        this.inflight.delete(done);
        resolve();
        this.backgroundSync();
      });
    });
    this.inflight.add(done);
  }

  /** Flushes and waits until everything is written (or failed). */
  async drain(): Promise<void> {
    this.flush();
    while (this.inflight.size > 0) await Promise.all(this.inflight);
  }
}
