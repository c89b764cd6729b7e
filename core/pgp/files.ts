import { once } from 'node:events';
import { chmodSync, linkSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { temporaryNameFor } from '../upload-names';

export { temporaryNameFor };

/** Replaces `path` with `data` atomically: readers see the old content or the new, never a part. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = temporaryNameFor(path);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may have narrowed the mode given to open()
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically (written aside, then
 * hard-linked: link fails with EEXIST instead of replacing). Returns false when another process
 * created it first, so two processes starting together agree on one file.
 */
export function createFileExclusive(path: string, data: string | Uint8Array, mode: number): boolean {
  const tmp = temporaryNameFor(path);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode);
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * A write stream destroyed before its file was opened still opens (creates) it, then closes
 * it: wait for that before removing, or the partial plaintext would be left behind.
 */
export async function removeWhenClosed(stream: WriteStream | undefined, path: string): Promise<void> {
  if (stream && !stream.closed) await once(stream, 'close').catch(() => undefined);
  rmSync(path, { force: true });
}
