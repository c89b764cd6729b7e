import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import BetterSqlite3 from 'better-sqlite3';
import type { DataPaths } from '../config/paths';
import { FluxgateError } from '../errors';
import { holderMayBeAlive } from './process-alive';

/** Who holds the data directory, as its holder recorded it beside the lock. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/**
 * One `serve` per data directory. Two servers on one data directory release each other's
 * leases, mark each other's files interrupted and process them twice, so the second must
 * refuse before it opens the database.
 *
 * The lock is an OS lock: SQLite's exclusive lock (POSIX fcntl) on `<data>/serve.lock`, held by
 * a connection in exclusive locking mode for the life of the process. The kernel releases it
 * when the process ends, however it ends (SIGKILL, OOM, power loss), so no stale lock can block
 * the next start, and there is no pid-reuse or mtime guesswork (as with a pid file or
 * proper-lockfile). Node has no flock/fcntl of its own; better-sqlite3 is already there.
 * CLI commands never take it: they share the database with the running server.
 *
 * POSIX locks belong to the process: nothing else in the server may open `serve.lock` (closing
 * any descriptor on it would drop the lock). The holder's pid and host are written to
 * `serve.lock.holder`, only to name the holder in the refusal.
 */
export class DataDirLock {
  private constructor(private readonly db: BetterSqlite3.Database, private readonly holderFile: string) {}

  /** Takes the data directory's lock, or throws FG_DATA_DIR_LOCKED naming the server that holds it. */
  static acquire(paths: DataPaths): DataDirLock {
    const file = paths.serveLock;
    const holderFile = `${file}.holder`;
    let db: BetterSqlite3.Database | undefined;
    try {
      mkdirSync(paths.root, { recursive: true, mode: 0o750 });
      db = new BetterSqlite3(file);
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      // No journal file beside the lock: nothing in it is worth a rollback.
      db.pragma('journal_mode = MEMORY');
      // In exclusive locking mode the write lock taken here is kept until the connection closes.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (at INTEGER); COMMIT');
    } catch (err) {
      db?.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw lockedError(paths.root, readHolder(holderFile));
      throw new FluxgateError('FG_DATA_DIR', `cannot lock the data directory ${paths.root} (${file}): ${(err as Error).message}; check that it exists, is writable and on a local or lock-capable file system`,
        { dataDir: paths.root }, { cause: err });
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    writeFileSync(holderFile, `${JSON.stringify(holder)}\n`, { mode: 0o640 });
    return new DataDirLock(db, holderFile);
  }

  /** Gives the data directory back (the process's end would too). */
  release(): void {
    if (!this.db.open) return;
    rmSync(this.holderFile, { force: true });
    this.db.close();
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? { pid: holder.pid, host: holder.host, since: String(holder.since) } : undefined;
  } catch {
    return undefined; // being written by a server that has just taken the lock
  }
}

function lockedError(dataDir: string, recorded: LockHolder | undefined): FluxgateError {
  // A record whose process is gone was left by a crashed server: the holder has just started and not written its own yet.
  const holder = recorded && holderMayBeAlive(recorded.pid, recorded.host) ? recorded : undefined;
  const who = holder ? `pid ${holder.pid} on host ${holder.host}, running since ${holder.since}` : 'a server that is starting';
  return new FluxgateError('FG_DATA_DIR_LOCKED',
    `the data directory ${dataDir} is in use by another fluxgate server (${who}): stop that server first, or give this one another --data-dir`,
    { dataDir, holderPid: holder?.pid, holderHost: holder?.host });
}
