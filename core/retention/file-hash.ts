import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Identifies one incarnation of a file: `dev:ino:birth` (inode numbers are reused at once
 * after a delete, birth times are not). Where the file system has no birth time, the ctime
 * stands in for it.
 */
export function inodeOf(st: { dev: number; ino: number; birthtimeMs: number; ctimeMs: number }): string {
  const birth = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
  return `${st.dev}:${st.ino}:${Math.round(birth * 1000)}`;
}
