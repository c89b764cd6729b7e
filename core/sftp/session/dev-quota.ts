import { lstat, opendir } from 'node:fs/promises';
import { limitError, type Slot } from '../limits';
import type { JailedPath } from '../path-jail';
import type { SessionContext } from './context';

/** New files being created in a dev/ directory (by real path) and not yet on disk, server-wide. */
const creating = new Map<string, number>();

/** Counts the directory's entries, stopping at `max` (a directory of a million entries costs no more than `max`). */
async function countUpTo(real: string, max: number): Promise<number> {
  let n = 0;
  const dir = await opendir(real, { bufferSize: 512 });
  try {
    while (n < max && (await dir.read())) n++;
  } finally {
    await dir.close().catch(() => undefined);
  }
  return n;
}

/**
 * Before an upload creates a new file in dev/: refuses it (FG_LIMIT) when dev/ already holds
 * `sftp.limits.devFilesPerAccount` files, uploads in progress included (their hidden temporary
 * files are in the directory; those about to be created are counted here). Undefined when the
 * upload does not create a file in dev/; otherwise release the slot once the file is created
 * (or its creation failed).
 */
export async function roomInDev(ctx: SessionContext, path: JailedPath): Promise<Slot | undefined> {
  if (path.segments.length !== 2 || path.segments[0] !== 'dev') return undefined;
  // Replacing a file adds none. (Any error other than ENOENT is the upload's own lstat's to report.)
  if (await lstat(path.real).then(() => true, () => false)) return undefined;
  const dirReal = ctx.jail.parent(path).real;
  const max = ctx.sftpConfig.limits.devFilesPerAccount;
  // Counted before the directory is read: pipelined OPENs all see each other.
  creating.set(dirReal, (creating.get(dirReal) ?? 0) + 1);
  let held = true;
  const slot: Slot = {
    release: () => {
      if (!held) return;
      held = false;
      const n = (creating.get(dirReal) ?? 1) - 1;
      if (n <= 0) creating.delete(dirReal);
      else creating.set(dirReal, n);
    },
  };
  try {
    // The others being created (this one excluded) and what is on disk.
    const others = (creating.get(dirReal) ?? 1) - 1;
    const present = await countUpTo(dirReal, max);
    if (present + others >= max) {
      throw limitError(`dev/ is full: it holds ${max} files (limit ${max} per account, uploads in progress included): remove some before uploading more`, 'devFilesPerAccount', max);
    }
    return slot;
  } catch (err) {
    slot.release();
    throw err;
  }
}
