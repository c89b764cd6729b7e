import { writev } from 'node:fs';

/** Contiguous WRITE requests are gathered up to this size and written with one writev(). */
export const RUN_BYTES = 512 * 1024;

/**
 * Gathers an upload's contiguous WRITE requests into runs written with one `writev` each:
 * OpenSSH sends 32 KiB writes, and one system call (and thread-pool trip) per 32 KiB costs
 * more CPU than the encryption. Requests are acknowledged when buffered; a failed write is
 * remembered and fails the CLOSE, so a file with a hole is never published.
 * `onWritten(n)` reports n requests on disk (the session's write gate counts them).
 */
export class WriteBuffer {
  private chunks: Buffer[] = [];
  private start = 0;
  private length = 0;
  private requests = 0;
  private readonly inflight = new Set<Promise<void>>();
  failed?: NodeJS.ErrnoException;
  bytes = 0;

  constructor(private readonly fd: number, private readonly onWritten: (requests: number) => void) {}

  add(offset: number, data: Buffer): void {
    if (this.length > 0 && offset !== this.start + this.length) this.flush();
    if (this.length === 0) this.start = offset;
    this.chunks.push(data);
    this.length += data.length;
    this.requests++;
    this.bytes += data.length;
    if (this.length >= RUN_BYTES) this.flush();
  }

  /** Starts writing what is gathered. */
  flush(): void {
    if (this.length === 0) return;
    const { chunks, start, requests } = this;
    this.chunks = [];
    this.length = 0;
    this.requests = 0;
    const done = new Promise<void>((resolve) => {
      writev(this.fd, chunks, start, (err) => {
        if (err) this.failed ??= err;
        this.inflight.delete(done);
        this.onWritten(requests);
        resolve();
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
