import { statfs } from 'node:fs/promises';
import type { Logger } from '../logging/logger';

/** errno codes (and SQLite's) of "no space left": a full disk or an exceeded quota, never the file's fault. */
const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether `err`, or an error it wraps (`cause`), says the disk is full or the quota exceeded. */
export function isOutOfSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUT_OF_SPACE.has(code)) return true;
  }
  return false;
}

export interface DiskSpaceOptions {
  /** First wait before free space is checked again; doubled each time, up to maxDelayMs. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Processing resumes once this many more bytes are free than when the write failed. */
  resumeMarginBytes?: number;
}

/**
 * Processing paused while the data directory's disk is full. Running out of space is not a
 * file's fault, so it must never cost a file its attempts (five attempts over 30 s once made a
 * file dead, and its report could not even be written). The first file that hits ENOSPC or
 * EDQUOT closes the gate: one alert in the log, then fs.statfs is polled with a capped backoff
 * until space returns; every file waits on the same gate (`ready` before an attempt, `pause`
 * after a failed write) and runs again once it opens, its attempt given back.
 */
export class DiskSpaceGate {
  private waiting?: Promise<void>;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly resumeMarginBytes: number;

  constructor(private readonly dir: string, private readonly log: Logger, options: DiskSpaceOptions = {}) {
    this.firstDelayMs = options.firstDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.resumeMarginBytes = options.resumeMarginBytes ?? 1024 * 1024;
  }

  get paused(): boolean {
    return this.waiting !== undefined;
  }

  /** Resolves at once, or once space is back when processing is paused (rejects when `signal` aborts). */
  ready(signal: AbortSignal): Promise<void> {
    return this.waiting ? abortable(this.waiting, signal) : Promise.resolve();
  }

  /** A write failed for lack of space (`err`): pauses processing and resolves once space is back. */
  pause(err: unknown, signal: AbortSignal): Promise<void> {
    this.waiting ??= this.waitForSpace(err).finally(() => { this.waiting = undefined; });
    return abortable(this.waiting, signal);
  }

  private async waitForSpace(err: unknown): Promise<void> {
    const since = Date.now();
    const atFailure = await freeBytes(this.dir);
    const wanted = (atFailure ?? 0) + this.resumeMarginBytes;
    this.log.error({ code: 'FG_DISK_FULL', dir: this.dir, freeBytes: atFailure, err: (err as Error).message },
      'ALERT: no space left for processing files: processing paused until space is freed (no file loses an attempt); free space on this disk');
    let delay = this.firstDelayMs;
    let nextReminder = since + 5 * 60_000;
    for (;;) {
      await new Promise((r) => setTimeout(r, delay).unref());
      const free = await freeBytes(this.dir);
      // statfs unavailable (never on Linux): try again, as a capped backoff alone would.
      if (free === undefined || free >= wanted) break;
      if (Date.now() >= nextReminder) {
        this.log.error({ code: 'FG_DISK_FULL', dir: this.dir, freeBytes: free, pausedMs: Date.now() - since }, 'ALERT: still no space left: processing remains paused');
        nextReminder = Date.now() + 5 * 60_000;
      }
      delay = Math.min(delay * 2, this.maxDelayMs);
    }
    this.log.warn({ dir: this.dir, pausedMs: Date.now() - since, freeBytes: await freeBytes(this.dir) }, 'disk space is back: processing resumes');
  }
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** `promise`, or the signal's reason once aborted (the engine aborts with errors, abort() with an AbortError). */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
