import { execFileSync } from 'node:child_process';

/**
 * Mounts a tmpfs of `bytes` over `dir` (an existing, empty directory): a full disk for a test.
 * Needs root (`skipUnless('tmpfs')`). Returns the unmount, for a `finally`: lazy, so that a
 * file the server still holds open does not keep the mount (or the test's directory) busy.
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
