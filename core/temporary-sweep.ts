import { readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataPaths } from './config/paths';
import type { Logger } from './logging/logger';
import { processIsAlive } from './store/process-alive';
import { hostTag, isServerTemporary, temporaryOwner } from './upload-names';

/**
 * Removes the temporaries a killed process left in the account trees and the PGP key
 * directory (a 0-byte `.sig` temporary from a kill during signing, a killed upload's
 * `.fg-upload-…`): every prefix of isServerTemporary, in one place.
 *
 * Runs in the background once `serve` has started (walking every account tree would hold up
 * the start by tens of seconds with thousands of accounts, #19), a few directories at a time
 * between turns of the event loop. No other server runs on this data directory (its lock is
 * taken), so a temporary is a leftover when its name has no owner (only earlier versions wrote
 * those), when its owner pid runs no process, or when it is this process's pid but the file is
 * older than this process (a previous life with the same pid, as in a container). Temporaries
 * of this process written since it started, and of a live process (a CLI command publishing
 * the PGP key right now), are kept.
 */
export async function sweepTemporaries(paths: DataPaths, logger: Logger, startedAt = processStartTime()): Promise<string[]> {
  const began = Date.now();
  const removed: string[] = [];
  for (const root of [paths.sftpRoot, paths.pgpDir]) {
    try {
      for await (const file of serverTemporaries(root)) {
        if (ownerMayBeRunning(file.name, file.path, startedAt)) continue;
        await rm(file.path, { force: true });
        removed.push(file.path);
      }
    } catch (err) {
      // Leftovers only cost space and are hidden from clients: never a reason to stop.
      logger.warn({ component: 'startup', root, err }, 'the sweep of leftover temporary files stopped early');
    }
  }
  const ms = Date.now() - began;
  if (removed.length > 0) {
    logger.info({ component: 'startup', count: removed.length, paths: removed.slice(0, 20), ms }, 'removed temporary files left by a stopped or killed process');
  } else {
    logger.info({ component: 'startup', count: 0, ms }, 'no temporary files left by a stopped or killed process');
  }
  return removed;
}

/** When this process started (ms since the epoch, rounded down to the second for file systems with 1-second mtimes). */
function processStartTime(): number {
  return Math.floor((Date.now() - process.uptime() * 1000) / 1000) * 1000;
}

/**
 * The same in one directory (not below), for a command resuming work there (an account removal
 * run again in the folder a killed run left): temporaries of writers no longer running go.
 */
export function sweepTemporariesIn(dir: string): string[] {
  const removed: string[] = [];
  const startedAt = processStartTime();
  for (const name of readdirSync(dir)) {
    if (!isServerTemporary(name) || ownerMayBeRunning(name, join(dir, name), startedAt)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

const THIS_HOST = hostTag();

/** Another host's writer (shared storage) may be running: its pid means nothing here. */
function ownerMayBeRunning(name: string, path: string, startedAt: number): boolean {
  const owner = temporaryOwner(name);
  if (owner === undefined) return false;
  if (owner.host !== undefined && owner.host !== THIS_HOST) return true;
  if (owner.pid === process.pid) return (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= startedAt;
  return processIsAlive(owner.pid);
}

/** Directories read between two turns of the event loop. */
const DIRECTORIES_PER_TURN = 200;

/**
 * The server's temporaries under `root`, at any depth (symbolic links are not followed). Read
 * synchronously, a few directories per turn of the event loop: cheaper than the thread pool,
 * where the workflows' file operations would wait behind thousands of reads.
 */
async function* serverTemporaries(root: string): AsyncGenerator<{ path: string; name: string }> {
  const pending = [root];
  let sinceTurn = 0;
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && isServerTemporary(entry.name)) yield { path, name: entry.name };
    }
    if (++sinceTurn >= DIRECTORIES_PER_TURN) {
      sinceTurn = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
