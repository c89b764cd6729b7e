import { readdirSync, rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
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
 * Runs at `serve` start-up, after the data-directory lock is taken and before any service
 * starts: no other server runs on this data directory and this one has written nothing yet, so
 * a temporary without an owner in its name (an upload in progress is only ever a server's) is
 * a leftover, and so is one whose owner pid is this process (a previous life with the same pid,
 * as in a container) or no running process. A temporary of a live process (a CLI command
 * publishing the PGP key right now) is kept.
 */
export async function sweepTemporaries(paths: DataPaths, logger: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (const root of [paths.sftpRoot, paths.pgpDir]) {
    try {
      for await (const file of serverTemporaries(root)) {
        if (ownerMayBeRunning(file.name)) continue;
        await rm(file.path, { force: true });
        removed.push(file.path);
      }
    } catch (err) {
      // Leftovers only cost space and are hidden from clients: never a reason not to start.
      logger.warn({ component: 'startup', root, err }, 'the sweep of leftover temporary files stopped early');
    }
  }
  if (removed.length > 0) {
    logger.info({ component: 'startup', count: removed.length, paths: removed.slice(0, 20) }, 'removed temporary files left by a stopped or killed process');
  }
  return removed;
}

/**
 * The same in one directory (not below), for a command resuming work there (an account removal
 * run again in the folder a killed run left): temporaries of writers no longer running go.
 */
export function sweepTemporariesIn(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!isServerTemporary(name) || ownerMayBeRunning(name)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

const THIS_HOST = hostTag();

/** Another host's writer (shared storage) may be running: its pid means nothing here. */
function ownerMayBeRunning(name: string): boolean {
  const owner = temporaryOwner(name);
  if (owner === undefined) return false;
  if (owner.host !== undefined && owner.host !== THIS_HOST) return true;
  return owner.pid !== process.pid && processIsAlive(owner.pid);
}

/** The server's temporaries under `root`, at any depth (symbolic links are not followed). */
async function* serverTemporaries(root: string): AsyncGenerator<{ path: string; name: string }> {
  const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  });
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) yield* serverTemporaries(path);
    else if (entry.isFile() && isServerTemporary(entry.name)) yield { path, name: entry.name };
  }
}
