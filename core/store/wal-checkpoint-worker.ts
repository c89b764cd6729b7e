import { statSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { lowerThreadPriority } from '../thread-priority';

/** What WalCheckpointer (wal-checkpointer.ts) gives its worker, as workerData. */
export interface CheckpointLoopOptions {
  /** The database file. */
  file: string;
  /** How often the loop looks at the WAL. */
  intervalMs: number;
  /** A RESTART checkpoint once a PASSIVE one leaves the WAL with this many bytes of frames. */
  restartBytes: number;
  /** While writes are noted, no checkpoint until the WAL file reaches this size. */
  deferBytes: number;
  /** Writes noted within this long mean a writer is committing. */
  quietMs: number;
  /** Write transactions noted by the server's connection (shared memory, Atomics). */
  noted: Int32Array;
}

/**
 * The WAL checkpoint worker (see WalCheckpointer): its own connection, checkpointing on a timer,
 * at a lower CPU priority. busy_timeout 0: a PASSIVE checkpoint that cannot start now is simply
 * retried at the next tick. A RESTART may wait up to 200 ms for the writer and readers; if they
 * are still busy it has still copied what it could, and the next tick tries again. The WAL
 * file's size bounds the frames it holds (journal_size_limit cuts it back below deferBytes when
 * it restarts).
 */
export function runCheckpointLoop(options: CheckpointLoopOptions): void {
  lowerThreadPriority();
  const db = new Database(options.file);
  db.pragma('busy_timeout = 0');
  const restartFrames = Math.max(1, Math.floor(options.restartBytes / (db.pragma('page_size', { simple: true }) as number)));
  const checkpoint = (mode: 'PASSIVE' | 'RESTART', busyMs: number): { log: number } | undefined => {
    db.pragma(`busy_timeout = ${busyMs}`);
    try {
      return (db.pragma(`wal_checkpoint(${mode})`) as Array<{ log: number }>)[0];
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      return undefined;
    } finally {
      db.pragma('busy_timeout = 0');
    }
  };
  const walFileBytes = (): number => {
    try { return statSync(`${options.file}-wal`).size; } catch { return 0; }
  };
  let noted = Atomics.load(options.noted, 0);
  // The worker starts because a writer filled the WAL: its start counts as a write.
  let lastWrite = Date.now();
  setInterval(() => {
    const now = Date.now();
    const count = Atomics.load(options.noted, 0);
    if (count !== noted) { noted = count; lastWrite = now; }
    if (now - lastWrite < options.quietMs && walFileBytes() < options.deferBytes) return;
    const passive = checkpoint('PASSIVE', 0);
    if (passive && passive.log >= restartFrames) checkpoint('RESTART', 200);
  }, options.intervalMs);
}

if (!isMainThread) runCheckpointLoop(workerData as CheckpointLoopOptions);
