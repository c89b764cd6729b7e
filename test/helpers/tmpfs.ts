import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Small file systems for disk-full tests. Mounting needs root: `skipUnless('tmpfs')` (tools.ts).

/**
 * Mounts a tmpfs of `bytes` over `dir` (an existing, empty directory): a full disk for a test.
 * Returns the unmount, for a `finally`: lazy (-l), so that a file the server still holds open
 * does not keep the mount (or the test's directory) busy.
 */
export function mountSmallDisk(dir: string, bytes: number): () => void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0750`, 'tmpfs', dir]);
  let mounted = true;
  return () => {
    if (!mounted) return;
    mounted = false;
    execFileSync('umount', ['-l', dir]);
  };
}

/** A tmpfs of `sizeMb` MiB mounted on a new directory for `fn`, unmounted (and removed) whatever happens. */
export async function withTmpfs<T>(sizeMb: number, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-tmpfs-'));
  const unmount = mountSmallDisk(dir, sizeMb * 1024 * 1024);
  try {
    return await fn(dir);
  } finally {
    unmount();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Free bytes on the file system of `dir`, as an unprivileged writer sees them. */
export function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}
