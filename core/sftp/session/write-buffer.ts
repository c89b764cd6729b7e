import { fdatasync, writev } from 'node:fs';

/** Contiguous WRITE requests are gathered to at least this size and written with one writev(). */
export const RUN_BYTES = 512 * 1024;
/** writev() takes at most IOV_MAX (1024) buffers; one request adds at most MAX_PIECES (64). */
const MAX_CHUNKS = 512;
/** With `sync`, an fdatasync is started in the background after every this many bytes written. */
export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/** Called once per run with the ids of its requests and their bytes: all written, or `error` (none acknowledged). */
export type Settle = (requests: readonly number[], error: NodeJS.ErrnoException | undefined, bytes: number) => void;

interface Run {
  chunks: Buffer[];
  /** File offset, or null with `append`. */
  position: number | null;
  length: number;
  requests: number[];
}

/**
 * Gathers an upload's contiguous WRITE requests into runs written with one `writev` each:
 * OpenSSH sends 32 KiB writes, and one system call (and thread-pool trip) per 32 KiB costs
 * more CPU than the encryption. One run is written at a time (like OpenSSH's single write
 * loop): thread-pool threads writing the same file at once only queue on its inode lock, and
 * what arrives meanwhile makes the next run longer.
 *
 * A request is settled (`settle`, which acknowledges it) only once its bytes are all written:
 * a short write is continued until the kernel has taken every byte or reports why not
 * (ENOSPC, EDQUOT, EIO). The first error fails the upload: that run's requests and every later
 * one are settled with it and nothing more is written, so the file never has a hole.
 * Since acknowledgements wait, what was gathered is written at the end of the event-loop turn
 * (or as soon as the previous run is done): a client waiting for its acknowledgements before
 * sending more (paramiko's non-pipelined write) must not wait for RUN_BYTES that never come.
 * With `sync` (uploads are fsynced at close), the file is also flushed in the background while
 * data arrives, so the fdatasync at close finds little left to write instead of the whole file.
 * With `append` (the file was opened O_APPEND, e.g. OpenSSH's `reput`), the kernel ignores
 * offsets: all requests form one stream in arrival order (which the one-at-a-time rule keeps).
 */
export class WriteBuffer {
  private chunks: Buffer[] = [];
  private requests: number[] = [];
  private start = 0;
  private length = 0;
  private readonly queue: Run[] = [];
  private writing = false;
  private turnFlush = false;
  private unsynced = 0;
  private syncing = false;
  private idleWaiters: Array<() => void> = [];
  private readonly sync: boolean;
  private readonly append: boolean;
  /** The upload's first failure (a disk error, or a refusal recorded by the caller): nothing more is written. */
  failed?: NodeJS.ErrnoException;
  /** Bytes accepted (gathered), whether or not written yet. */
  bytes = 0;

  constructor(
    private readonly fd: number,
    private readonly settle: Settle,
    options: { sync?: boolean; append?: boolean } = {},
  ) {
    this.sync = options.sync ?? false;
    this.append = options.append ?? false;
  }

  add(request: number, offset: number, data: Buffer): void {
    this.addPieces(request, offset, [data], data.length);
  }

  /** One WRITE request whose data arrived in several pieces (see write-framing.ts), `length` bytes in all. */
  addPieces(request: number, offset: number, pieces: readonly Buffer[], length: number): void {
    // Nothing to write (an empty WRITE): done at once.
    if (length === 0) return this.settle([request], this.failed, 0);
    if (this.length > 0 && !this.append && offset !== this.start + this.length) this.flush();
    if (this.length === 0) this.start = offset;
    for (const piece of pieces) this.chunks.push(piece);
    this.length += length;
    this.requests.push(request);
    this.bytes += length;
    if ((!this.writing && this.length >= RUN_BYTES) || this.chunks.length >= MAX_CHUNKS) this.flush();
    else this.flushAtEndOfTurn();
  }

  private flushAtEndOfTurn(): void {
    if (this.turnFlush) return;
    this.turnFlush = true;
    setImmediate(() => {
      this.turnFlush = false;
      // While a run is being written, what gathers meanwhile goes when it is done (next()).
      if (!this.writing) this.flush();
    });
  }

  /** Queues what is gathered as a run, written after the runs before it. */
  flush(): void {
    if (this.length === 0) return;
    this.queue.push({ chunks: this.chunks, position: this.append ? null : this.start, length: this.length, requests: this.requests });
    this.chunks = [];
    this.requests = [];
    this.length = 0;
    this.next();
  }

  /** Starts writing the next queued run, if none is being written. */
  private next(): void {
    if (this.writing) return;
    const run = this.queue.shift();
    if (!run) return this.wakeIfIdle();
    if (this.failed) {
      // Nothing after a failure is written: the file keeps no data past a hole.
      this.settle(run.requests, this.failed, run.length);
      return this.next();
    }
    this.writing = true;
    this.writeAll(run.chunks, run.position, run.length, (err) => {
      this.writing = false;
      if (err) this.failed ??= err;
      else this.unsynced += run.length;
      this.settle(run.requests, err ?? undefined, run.length);
      this.backgroundSync();
      // Acknowledgements are waiting on what gathered meanwhile: write it now.
      if (this.queue.length === 0) this.flush();
      this.next();
    });
  }

  /** writev until every byte is taken: a short write (a disk filling up) is continued, and then fails with the reason. */
  private writeAll(chunks: Buffer[], position: number | null, length: number, done: (err: NodeJS.ErrnoException | null) => void): void {
    writev(this.fd, chunks, position, (err, written) => {
      if (err) return done(err);
      if (written >= length) return done(null);
      if (written === 0) return done(Object.assign(new Error('the write made no progress'), { code: 'EIO' }));
      this.writeAll(skipBytes(chunks, written), position === null ? null : position + written, length - written, done);
    });
  }

  /** One fdatasync at a time, each covering what was written before it started. */
  private backgroundSync(): void {
    if (!this.sync || this.syncing || this.failed || this.unsynced < SYNC_EVERY_BYTES) return;
    this.syncing = true;
    this.unsynced = 0;
    fdatasync(this.fd, (err) => {
      if (err) this.failed ??= err;
      this.syncing = false;
      this.backgroundSync();
      this.wakeIfIdle();
    });
  }

  private wakeIfIdle(): void {
    if (this.writing || this.syncing || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Flushes and waits until everything is written (or failed), every request settled. */
  async drain(): Promise<void> {
    this.flush();
    while (this.writing || this.syncing || this.queue.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

/** The buffers left once `n` bytes of them are written (views, no copy). */
function skipBytes(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (n >= chunks[i].length) n -= chunks[i++].length;
  const rest = chunks.slice(i);
  if (n > 0) rest[0] = rest[0].subarray(n);
  return rest;
}
