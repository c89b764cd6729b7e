import type { BigIntStats } from 'node:fs';

/**
 * What tells one upload from another at the same path (migration 020): the inode, the mtime in
 * nanoseconds and the size, from the `stat` intake takes before digesting. A rename keeps all
 * three (the move of a processed file out of `in/`, and the `.filepart` → final rename that
 * completed it); a new upload, even of the same bytes under the same name, is written to a new
 * file, so a new inode and mtime. No device number: on NFS each client numbers its mounts
 * itself, so two nodes see the same file under different `dev`; the inode (NFS fileid) and the
 * mtime come from the server, the same on every node. docs/engine.md, "One entry per upload".
 */
export function uploadIdentity(stat: BigIntStats): string {
  return `${stat.ino}:${stat.mtimeNs}:${stat.size}`;
}
