import { closeSync, fstatSync, ftruncateSync, openSync, readSync, statfsSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import { startModuleWorker } from '../module-worker';
import type { Service } from '../tokens';
import type { Database } from './database';
import type { CheckpointLoopOptions } from './wal-checkpoint-worker';

/** The WAL file's size between big files: pre-sized to it at start, cut back to it when it restarts. */
export const WAL_KEPT_BYTES = 64 * 1024 * 1024;

/**
 * The check's longest interval, reached by doubling while the WAL does not grow by
 * GROWING_BYTES between checks: an idle server is not woken twice a second to read a WAL that
 * only its heartbeat adds to (test/integration/idle-wakeups.test.ts).
 */
const IDLE_CHECK_MS = 4000;
const GROWING_BYTES = 1024 * 1024;

/**
 * The free space pre-sizing must leave on the database's file system: 10 % of it, at least
 * 256 MiB and at most 4 GiB. Pre-sizing is only a speed-up; the space is the PGP key's, the
 * uploads' and the reports'.
 */
export function presizeFreeMargin(fileSystemBytes: number): number {
  return Math.min(4 * 1024 ** 3, Math.max(256 * 1024 ** 2, Math.floor(fileSystemBytes / 10)));
}

/**
 * What the WAL file keeps even on a small disk: up to 4 MiB, never more than 1/32 of the free
 * space. SQLite writes frames over these pages without asking the file system for more, so the
 * journal can still record arrivals, pauses and resumptions while the disk is full (the engine
 * waits for space then: docs/engine.md, "A full disk").
 */
export function journalReserveBytes(freeBytes: number): number {
  return Math.min(4 * 1024 ** 2, Math.floor(freeBytes / 32));
}

/** Bytes an unprivileged writer may still use on the file system of `dir`, and its size. */
export function fileSystemSpace(dir: string): { free: number; size: number } {
  const fs = statfsSync(dir);
  return { free: fs.bavail * fs.bsize, size: fs.blocks * fs.bsize };
}

/**
 * Moves SQLite's WAL checkpoints off the main thread while the server runs. By default the
 * connection that commits past 1000 WAL pages copies them into the database file and fsyncs,
 * inside that commit: on a 200,000-row file that is a large share of the main thread's time,
 * and the event loop (SFTP sessions) waits through it. Here the server's connection never
 * checkpoints; a worker thread (wal-checkpoint-worker.ts) with its own connection runs PASSIVE
 * checkpoints (they never block writers or readers) a few times a second.
 *
 * PASSIVE checkpoints alone never let the WAL start over while a handler commits every few
 * milliseconds (SQLite restarts it only at a write that finds every frame copied), so it grew by
 * the size of each big file: 180 MB for 200,000 employees, and without bound for bigger files.
 * So once the WAL holds `restartBytes`, the worker runs a RESTART checkpoint: it waits (200 ms at
 * most) for the current write transaction, holds the next writer back while it copies what is
 * left and syncs (little: the PASSIVE ones copied the rest), and the next commit writes from the
 * start of the WAL again. A writer that never pauses between commits can starve it; a handler's
 * row validation between batches is pause enough.
 *
 * While a writer commits (writes noted through noteWrite in the last `quietMs`) the worker does
 * not checkpoint at all until the WAL reaches `deferBytes`: it copies once the writer pauses.
 * Checkpoints during a file competed for the two cores with the handler and the parse thread
 * (0.14-0.23 s of CPU during a 200,000-row file), and copied the pages the file kept changing
 * (the last leaves of the table and indexes) again at every tick. The cost: a WAL file of up to
 * `deferBytes` on disk during big files (cut back to journal_size_limit when it next restarts).
 *
 * The worker costs about 16 MB, so it starts only once the WAL outgrows `startBytes`; until
 * then, and after stop(), SQLite's own automatic checkpoint applies. Other processes (CLI
 * commands) keep the default behaviour.
 */
export class WalCheckpointer implements Service {
  readonly name = 'wal-checkpointer';
  private timer?: NodeJS.Timeout;
  private checkMs = 0;
  private walBytes = 0;
  private worker?: Worker;
  /** Write transactions noted so far, shared with the worker: it defers checkpoints while the count moves. */
  private readonly noted = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: {
      startBytes?: number; presizeBytes?: number; restartBytes?: number; deferBytes?: number; quietMs?: number; checkIntervalMs?: number; checkpointIntervalMs?: number;
      /** How free space is measured (tests stand in for a disk that fills between the measure and the writes). */
      measureSpace?: (dir: string) => { free: number; size: number };
    } = {},
  ) {}

  start(): void {
    if (this.db.memory) return;
    this.db.pragma('wal_autocheckpoint = 0');
    // A WAL that grew during a big file is cut back to this size when it next restarts.
    this.db.pragma(`journal_size_limit = ${WAL_KEPT_BYTES}`);
    this.presizeWal(Math.min(this.options.presizeBytes ?? WAL_KEPT_BYTES, WAL_KEPT_BYTES));
    this.scheduleCheck(this.fastCheckMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.checkMs = 0;
    await this.worker?.terminate();
    this.worker = undefined;
    if (this.db.open && !this.db.memory) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /**
   * The count noteWrite keeps, for writers on other threads (a sandbox's engine side,
   * core/sandbox/host-worker.ts): `Atomics.add(new Int32Array(it), 0, 1)` after each write
   * transaction defers checkpoints as noteWrite does; the check timer does the rest.
   */
  get sharedWriteCount(): SharedArrayBuffer { return this.noted.buffer; }

  /**
   * Called by writers after each write transaction. While a handler streams a big file its
   * records keep arriving before it has stored the last ones, so the event loop may not reach
   * the check timer for the whole file: the WAL size is also checked from here, every 64 writes.
   */
  noteWrite(): void {
    const writes = Atomics.add(this.noted, 0, 1) + 1;
    if (this.worker || this.checkMs === 0 || writes % 64 !== 0) return;
    this.check();
  }

  /**
   * Appends zeros to the WAL file up to `bytes`, never touching what is in it, inside a write
   * transaction (the write lock: no connection of any process appends frames meanwhile). Frames
   * written past the WAL file's end made the kernel allocate and zero new page-cache pages in
   * each commit: ~0.2 s of the main thread per 200,000-row file (ext4, Linux 6.18). Frames
   * written over existing pages do not. SQLite stops reading frames at the first invalid one,
   * so the zeros are never taken for frames. A running server reached this state anyway after
   * its first big file (journal_size_limit keeps the WAL at WAL_KEPT_BYTES); now the first file
   * after a start finds it too.
   *
   * It never fills a disk: it appends only what leaves presizeFreeMargin free (or, on a disk
   * already short of that margin, the small journalReserveBytes), and a write that
   * fails (ENOSPC: something else took the space meanwhile) is undone, the file cut back to its
   * length before. On a file system already short of that margin it gives back what a crashed
   * server's WAL holds beyond its frames (a TRUNCATE checkpoint), as earlier versions, which
   * pre-sized whatever the free space, left 64 MiB of zeros on a full disk at every start.
   */
  private presizeWal(bytes: number): void {
    const path = `${this.db.name}-wal`;
    let space: { free: number; size: number };
    try {
      space = (this.options.measureSpace ?? fileSystemSpace)(dirname(this.db.name));
    } catch (err) {
      this.logger.warn({ component: 'store', wal: path, err }, 'the free space of the database\'s file system cannot be read: the WAL file is not pre-sized; big files will grow it');
      return;
    }
    const margin = presizeFreeMargin(space.size);
    if (space.free < margin) this.giveBackWalSpace(path, space.free, margin);
    try {
      this.db.transaction(() => {
        const fd = openSync(path, 'r+');
        const before = fstatSync(fd).size;
        const roomy = before + Math.max(0, space.free - margin);
        const upTo = Math.min(bytes, Math.max(roomy, journalReserveBytes(space.free)));
        try {
          const zeros = Buffer.alloc(1024 * 1024);
          for (let at = before; at < upTo; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, upTo - at), at);
        } catch (err) {
          ftruncateSync(fd, before);
          throw err;
        } finally {
          closeSync(fd);
        }
        if (upTo < bytes) {
          this.logger.warn({ component: 'store', wal: path, freeBytes: space.free, marginBytes: margin, presizedTo: Math.max(before, upTo) },
            'little free space on the database\'s file system: the WAL file is pre-sized only partly or not at all; big files will grow it');
        }
      }).immediate();
    } catch (err) {
      // Only slower big files: the zeros written were cut back, the disk is as it was.
      this.logger.warn({ component: 'store', wal: path, err }, 'the WAL file could not be pre-sized (what was written is undone); big files will grow it');
    }
  }

  /** A TRUNCATE checkpoint when the WAL file outgrows its frames; skipped (not waited for) while other connections read. */
  private giveBackWalSpace(path: string, free: number, margin: number): void {
    let length: number;
    try {
      const fd = openSync(path, 'r');
      try { length = fstatSync(fd).size; } finally { closeSync(fd); }
    } catch { return; }
    if (length <= walBytesInUse(this.db.name)) return;
    const busy = this.db.pragma('busy_timeout', { simple: true }) as number;
    try {
      this.db.pragma('busy_timeout = 0');
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      this.logger.warn({ component: 'store', wal: path, freeBytes: free, marginBytes: margin, walBytes: length, truncated: result?.busy === 0 },
        'little free space on the database\'s file system: the WAL file\'s unused space is given back');
    } catch (err) {
      this.logger.warn({ component: 'store', wal: path, err }, 'the WAL file\'s unused space could not be given back');
    } finally {
      this.db.pragma(`busy_timeout = ${busy}`);
    }
  }

  /** True once the checkpoint worker runs (for tests and logs). */
  get running(): boolean { return this.worker !== undefined; }

  private get fastCheckMs(): number { return this.options.checkIntervalMs ?? 500; }

  /** The timer's check: every fastCheckMs while the WAL grows, up to IDLE_CHECK_MS apart while it does not; none once the worker runs. */
  private scheduleCheck(delay: number): void {
    this.checkMs = delay;
    this.timer = setTimeout(() => {
      const before = this.walBytes;
      this.check();
      if (this.worker) return;
      const growing = this.walBytes - before >= GROWING_BYTES;
      this.scheduleCheck(growing ? this.fastCheckMs : Math.max(this.fastCheckMs, Math.min(this.checkMs * 2, IDLE_CHECK_MS)));
    }, delay);
    this.timer.unref();
  }

  private check(): void {
    if (this.worker) return;
    this.walBytes = walBytesInUse(this.db.name);
    if (this.walBytes >= (this.options.startBytes ?? 16 * 1024 * 1024)) this.startWorker();
  }

  private startWorker(): void {
    const loop: CheckpointLoopOptions = {
      file: this.db.name, intervalMs: this.options.checkpointIntervalMs ?? 200, restartBytes: this.options.restartBytes ?? 16 * 1024 * 1024,
      deferBytes: this.options.deferBytes ?? 128 * 1024 * 1024, quietMs: this.options.quietMs ?? 500, noted: this.noted,
    };
    // wal-checkpoint-worker.ts, beside this file (compiled, or through tsx: module-worker.ts).
    const worker = startModuleWorker(__filename, 'wal-checkpoint-worker', { workerData: loop, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    worker.unref();
    worker.on('error', (err) => {
      this.logger.error({ component: 'store', err }, 'WAL checkpoint worker failed: SQLite checkpoints on commit again');
      if (this.worker === worker) this.worker = undefined;
      clearTimeout(this.timer);
      this.checkMs = 0;
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    });
    this.worker = worker;
    this.logger.info({ component: 'store', wal: `${this.db.name}-wal` }, 'WAL checkpoints moved to a worker thread');
  }
}

/**
 * The bytes of frames the WAL holds. Its file's length says nothing of that: the file is
 * pre-sized, and kept at WAL_KEPT_BYTES after a big file. The frames of the current WAL come
 * first and repeat the two salts of its header; stale frames from before a restart, and the
 * zeros, do not (sqlite.org/fileformat.html, "The WAL file format"): a binary search on the
 * salts finds the last one. Read from the WAL file itself, which SQLite never locks: a second
 * descriptor on the -shm file would have released SQLite's locks on it when closed (POSIX
 * locks belong to the process), and another process then reset the shared memory under the
 * server (SIGBUS).
 */
export function walBytesInUse(database: string): number {
  let fd: number;
  try { fd = openSync(`${database}-wal`, 'r'); } catch { return 0; }
  try {
    const header = Buffer.alloc(32);
    if (readSync(fd, header, 0, header.length, 0) < header.length) return 0;
    const magic = header.readUInt32BE(0);
    if (magic !== 0x377f0682 && magic !== 0x377f0683) return 0;
    const frameBytes = header.readUInt32BE(8) + 24;
    const salts = header.subarray(16, 24);
    const frameSalts = Buffer.alloc(8);
    const current = (frame: number) => readSync(fd, frameSalts, 0, 8, 32 + (frame - 1) * frameBytes + 8) === 8 && frameSalts.equals(salts);
    let last = 0;
    for (let high = Math.floor((fstatSync(fd).size - 32) / frameBytes); last < high;) {
      const middle = Math.ceil((last + high) / 2);
      if (current(middle)) last = middle;
      else high = middle - 1;
    }
    return last === 0 ? 0 : 32 + last * frameBytes;
  } finally {
    closeSync(fd);
  }
}
