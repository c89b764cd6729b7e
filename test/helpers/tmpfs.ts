import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * For `test(name, { skip: skipUnlessTmpfs() }, fn)`: mounting a small file system needs root.
 * Under CI=true (which runs as root) nothing may be skipped: it throws.
 */
export function skipUnlessTmpfs(): false | string {
  if (process.getuid?.() === 0) return false;
  const msg = 'needs root, to mount a small tmpfs (mount -t tmpfs)';
  if (process.env.CI === 'true') throw new Error(`CI=true and ${msg}`);
  return msg;
}

/** A tmpfs of `sizeMb` MiB mounted on a new directory for `fn`, unmounted (and removed) whatever happens. */
export async function withTmpfs<T>(sizeMb: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  try {
    return await fn(dir);
  } finally {
    // Lazily (-l): a process the test started may still hold a file open for a moment.
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Free bytes on the file system of `dir`, as an unprivileged writer sees them. */
export function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}
