import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `dev:ino`: identifies a file across renames of other files to its name. */
export function inodeOf(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}
