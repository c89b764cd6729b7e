import { readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '../logging/logger';
import { walkFiles } from '../retention/tree-scan';
import { processIsAlive } from '../store/process-alive';
import { TEMP_UPLOAD_PREFIX, hostTag, tempUploadOwner } from '../upload-names';

export interface StaleUploadsSweep {
  removed: number;
  bytes: number;
  /** Temporary files left alone: their writer may be alive (another host, a live pid) or is unknown (older names). */
  kept: number;
}

/**
 * At start-up, before the server accepts logins: deletes the hidden temporary files of direct
 * uploads (`.fg-upload-*`) whose writer is gone, i.e. a server of this host that was killed
 * mid-upload (a session that ends cleanly deletes its own). The writer is read from the name
 * (core/upload-names.ts): this host, and a pid that no longer runs or is this process's (which
 * has written none yet: a container restarted with the same pid). Files of another host (shared
 * storage) or with a name from before the owner was written in it are left to the retention
 * job's partial-upload rule (`retention.partialUploadDays`).
 */
export async function removeStaleUploads(sftpRoot: string, log: Logger): Promise<StaleUploadsSweep> {
  const sweep: StaleUploadsSweep = { removed: 0, bytes: 0, kept: 0 };
  const host = hostTag();
  const accounts = await readdir(sftpRoot, { withFileTypes: true }).catch(() => []);
  for (const account of accounts) {
    if (!account.isDirectory()) continue;
    try {
      for await (const file of walkFiles(join(sftpRoot, account.name))) {
        const name = basename(file.abs);
        if (!name.startsWith(TEMP_UPLOAD_PREFIX)) continue;
        const owner = tempUploadOwner(name);
        const gone = owner !== undefined && owner.host === host && (owner.pid === process.pid || !processIsAlive(owner.pid));
        if (!gone) {
          sweep.kept++;
          continue;
        }
        // Gone meanwhile (a retention run): nothing to count.
        if (!(await unlink(file.abs).then(() => true, (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return false; throw err; }))) continue;
        sweep.removed++;
        sweep.bytes += file.st.size;
        log.info({ accountId: account.name, path: file.rel, size: file.st.size, pid: owner.pid }, 'temporary file of an interrupted upload removed');
      }
    } catch (err) {
      log.error({ accountId: account.name, err }, 'could not look for temporary files of interrupted uploads');
    }
  }
  return sweep;
}
